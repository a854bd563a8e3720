"""Similarity-preserving KD (Tung & Mori 2019): row-normalised batch Gram matrices of the last stage, ‖G_s − G_t‖²/B²."""
import torch.nn.functional as F

from .base import FeatureMethod, paired_stages


def gram(feature):
    flat = feature.flatten(1)
    return F.normalize(flat @ flat.t(), dim=1)


class SimilarityPreserving(FeatureMethod):
    def method_losses(self, step, terms):
        name = f"stage{paired_stages(self.setup)[-1]}"
        student, teacher = step.student.features[name], step.teacher.features[name]
        batch = student.shape[0]
        terms["sp"] = self.options["Beta"] * (gram(teacher) - gram(student)).pow(2).sum() / batch ** 2
