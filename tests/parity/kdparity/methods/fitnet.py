"""FitNets (Romero et al. 2015): a conv regressor maps the student's middle stage onto the teacher's; MSE.

The hint stage trains the regressor and the student on the hint loss alone; the main stage adds Beta·MSE.
"""
import torch.nn as nn
import torch.nn.functional as F

from .base import FeatureMethod, PreStage, stage_count


class ConvRegressor(nn.Module):
    """RepDistiller's ConvReg: a stride-2 3x3 conv, a 4x4 transposed conv or a valid conv by map size; BN; ReLU."""

    def __init__(self, student_shape, teacher_shape):
        super().__init__()
        _, sc, sh, sw = student_shape
        _, tc, th, tw = teacher_shape
        if sh == 2 * th:
            self.conv = nn.Conv2d(sc, tc, 3, stride=2, padding=1)
        elif 2 * sh == th:
            self.conv = nn.ConvTranspose2d(sc, tc, 4, stride=2, padding=1)
        else:
            self.conv = nn.Conv2d(sc, tc, (1 + sh - th, 1 + sw - tw))
        self.bn = nn.BatchNorm2d(tc)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FitNet(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        stages = min(stage_count(setup.student), stage_count(setup.teacher))
        self.feature = f"stage{options['HintStage'] or (stages + 1) // 2}"
        self.extras = ConvRegressor(setup.student[self.feature], setup.teacher[self.feature])

    def hint(self, step):
        return F.mse_loss(self.extras(step.student.features[self.feature]), step.teacher.features[self.feature])

    def pre_stages(self):
        return {"hint": PreStage(self.extras.parameters, lambda step, terms: terms.update(hint=self.hint(step)), True)}

    def method_losses(self, step, terms):
        terms["hint"] = self.options["Beta"] * self.hint(step)
