"""Activation boundaries (Heo et al. 2019): a margin hinge on the student's pre-ReLU stage outputs (through 1x1 conv +
BN connectors) against the teacher neurons' on/off state, deeper stages weighted more; an initialisation stage first."""
import torch.nn as nn

from .base import FeatureMethod, PreStage, paired_stages


class Connector(nn.Module):
    def __init__(self, student_channels, teacher_channels):
        super().__init__()
        self.conv = nn.Conv2d(student_channels, teacher_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(teacher_channels)

    def forward(self, x):
        return self.bn(self.conv(x))


def boundary_loss(students, teachers, margin):
    """Σ_i 2^(i−n+1)·Σ[(s+m)²·[s > −m ∧ t ≤ 0] + (s−m)²·[s ≤ m ∧ t > 0]] / B / 1000 · 3 over the n stage pairs."""
    n, batch, total = len(students), students[0].shape[0], 0
    for i, (s, t) in enumerate(zip(students, teachers)):
        off = ((s > -margin) & (t <= 0)).to(s.dtype)
        on = ((s <= margin) & (t > 0)).to(s.dtype)
        total = total + 2 ** (i - n + 1) * ((s + margin).pow(2) * off + (s - margin).pow(2) * on).sum() / batch / 1000 * 3
    return total


class ActivationBoundary(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.stages = paired_stages(setup)
        self.extras = nn.ModuleList([Connector(setup.student[f"stage{s}_preact"][1], setup.teacher[f"stage{s}_preact"][1])
                                     for s in self.stages])

    def boundary(self, step):
        students = [c(step.student.features[f"stage{s}_preact"]) for c, s in zip(self.extras, self.stages)]
        teachers = [step.teacher.features[f"stage{s}_preact"] for s in self.stages]
        return boundary_loss(students, teachers, self.options["Margin"])

    def pre_stages(self):
        return {"init": PreStage(self.extras.parameters, lambda step, terms: terms.update(ab=self.boundary(step)), True)}

    def method_losses(self, step, terms):
        terms["ab"] = self.options["Beta"] * self.boundary(step)
