"""Variational information distillation (Ahn et al. 2019): per stage, the Gaussian negative log-likelihood of the
teacher feature under a mean regressed from the student's (three 1x1 convs) and a learned per-channel variance."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import FeatureMethod, match_heights, paired_stages

EPS = 1e-5


class VidRegressor(nn.Module):
    def __init__(self, student_channels, teacher_channels, initial_variance):
        super().__init__()
        self.conv1 = nn.Conv2d(student_channels, teacher_channels, 1, bias=False)
        self.conv2 = nn.Conv2d(teacher_channels, teacher_channels, 1, bias=False)
        self.conv3 = nn.Conv2d(teacher_channels, teacher_channels, 1, bias=False)
        # softplus(log_scale) + eps starts at the initial variance.
        initial = torch.log(torch.expm1(torch.tensor(initial_variance - EPS, dtype=torch.float64)))
        self.log_scale = nn.Parameter(torch.full((teacher_channels,), initial.item()))

    def forward(self, x):
        return self.conv3(F.relu(self.conv2(F.relu(self.conv1(x)))))


class Vid(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.stages = paired_stages(setup)
        self.extras = nn.ModuleList([VidRegressor(setup.student[f"stage{s}"][1], setup.teacher[f"stage{s}"][1],
                                                  options["InitialVariance"]) for s in self.stages])

    def method_losses(self, step, terms):
        losses = []
        for regressor, s in zip(self.extras, self.stages):
            student, teacher = match_heights(step.student.features[f"stage{s}"], step.teacher.features[f"stage{s}"])
            variance = (F.softplus(regressor.log_scale) + EPS).view(1, -1, 1, 1)
            losses.append((0.5 * ((regressor(student) - teacher).pow(2) / variance + variance.log())).mean())
        terms["vid"] = self.options["Beta"] * sum(losses)
