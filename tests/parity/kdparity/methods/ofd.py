"""Overhaul of feature distillation (Heo et al. 2019): the student's pre-ReLU stage outputs through 1x1 conv + BN
connectors against the teacher's pre-ReLU features (average-pooled to the student's size), by a partial L2 that
ignores the student below a per-channel margin where the teacher's neuron is off. The margin is the expected negative
response of the teacher's BatchNorm before that ReLU, E[x | x < 0] for x ~ N(β, γ²), computed here from the PyTorch
teacher's own BatchNorm (not loaded from KdTools). As the authors' code: t' = max(t, m), (s − t')² where s > t' or
t' > 0, summed over C·H·W and averaged over the batch; level i of n divided by 2^(n−i−1); the deepest stages paired."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .ab import Connector
from .base import FeatureMethod, stage_count


def margins(norm):
    """−|γ|·φ(β/|γ|)/Φ(−β/|γ|) + β where Φ(−β/|γ|) > 0.001, else −3|γ| (φ, Φ: standard normal density and CDF)."""
    std, mean = norm.weight.detach().abs(), norm.bias.detach()
    ratio = mean / std
    negative = 0.5 * torch.erfc(ratio / math.sqrt(2))
    density = torch.exp(-0.5 * ratio ** 2) / math.sqrt(2 * math.pi)
    return torch.where(negative > 0.001, -std * density / negative + mean, -3 * std)


class LevelBuffers(nn.Module):
    def __init__(self, values):
        super().__init__()
        for level, value in enumerate(values):
            self.register_buffer(str(level), value)


class Ofd(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        student, teacher = stage_count(setup.student), stage_count(setup.teacher)
        count = min(student, teacher)
        self.levels = [(student - count + 1 + i, teacher - count + 1 + i) for i in range(count)]
        connectors = nn.ModuleList([Connector(setup.student[f"stage{s}_preact"][1], setup.teacher[f"stage{t}_preact"][1])
                                    for s, t in self.levels])
        self.margin_buffers = LevelBuffers([margins(setup.teacher_norm(t)) for _, t in self.levels])
        self.extras = nn.ModuleDict({"connectors": connectors, "margins": self.margin_buffers})
        self.derived = {f"margins.{level}" for level in range(count)}
        # Both references keep the teacher in train mode while distilling (mdistiller's OFD.train, clovaai's distiller).
        self.teacher_trains = options.get("TeacherMode", "Train") == "Train"

    def method_losses(self, step, terms):
        total, count = 0, len(self.levels)
        for i, (s, t) in enumerate(self.levels):
            student = self.extras["connectors"][i](step.student.features[f"stage{s}_preact"])
            teacher = F.adaptive_avg_pool2d(step.teacher.features[f"stage{t}_preact"], student.shape[2:]).detach()
            target = torch.max(teacher, getattr(self.margin_buffers, str(i)).view(1, -1, 1, 1))
            mask = ((student > target) | (target > 0)).to(student.dtype)
            total = total + ((student - target).pow(2) * mask).sum() / student.shape[0] / 2 ** (count - i - 1)
        terms["ofd"] = self.options["Beta"] * total
