"""Relational KD (Park et al. 2019): normalised pairwise distances and triplet angles of the embeddings, smooth L1."""
import torch
import torch.nn.functional as F

from .base import FeatureMethod


def distances(e):
    square = e.pow(2).sum(1)
    d = (square.unsqueeze(1) + square.unsqueeze(0) - 2 * e @ e.t()).clamp(min=1e-12).sqrt()
    d = d * (1 - torch.eye(len(e), dtype=e.dtype))
    return d / d[d > 0].mean()


def angles(e):
    directions = F.normalize(e.unsqueeze(0) - e.unsqueeze(1), p=2, dim=2)
    return torch.bmm(directions, directions.transpose(1, 2)).flatten()


class Rkd(FeatureMethod):
    def method_losses(self, step, terms):
        s = step.student.features["embedding"].flatten(1)
        t = step.teacher.features["embedding"].flatten(1).detach()
        beta = self.options["Beta"]
        terms["rkd_distance"] = beta * self.options["DistanceWeight"] * F.smooth_l1_loss(distances(s), distances(t))
        terms["rkd_angle"] = beta * self.options["AngleWeight"] * F.smooth_l1_loss(angles(s), angles(t))
