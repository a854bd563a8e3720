"""Activation boundaries (Heo et al. 2019): a margin hinge on the student's pre-ReLU stage outputs against the teacher
neurons' on/off state, deeper stages weighted more; an initialisation stage first. Where a stage pair has equal shapes
the student map is compared directly (the identity, as the AB authors and RepDistiller); otherwise, or always with
LearnedConnectors, through a 1x1 conv + BN connector."""
import torch.nn as nn

from .base import FeatureMethod, PreStage, paired_stages


class Connector(nn.Module):
    """Bias-free 1x1 conv to the teacher's channels, then BN (AB's and OFD's connector)."""

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

        def connector(s):
            student, teacher = setup.student[f"stage{s}_preact"], setup.teacher[f"stage{s}_preact"]
            if student[1:] == teacher[1:] and not options["LearnedConnectors"]:
                return nn.Identity()
            return Connector(student[1], teacher[1])
        self.connectors = nn.ModuleList([connector(s) for s in self.stages])
        # Identities alone are no trainable modules: KdTools then has no extras to export either.
        self.extras = self.connectors if any(isinstance(c, Connector) for c in self.connectors) else None

    def boundary(self, step):
        students = [c(step.student.features[f"stage{s}_preact"]) for c, s in zip(self.connectors, self.stages)]
        teachers = [step.teacher.features[f"stage{s}_preact"] for s in self.stages]
        return boundary_loss(students, teachers, self.options["Margin"])

    def pre_stages(self):
        return {"init": PreStage(self.connectors.parameters, lambda step, terms: terms.update(ab=self.boundary(step)), True)}

    def method_losses(self, step, terms):
        terms["ab"] = self.options["Beta"] * self.boundary(step)
