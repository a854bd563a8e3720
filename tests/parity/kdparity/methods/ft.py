"""Factor transfer (Kim et al. 2018): a paraphraser (an autoencoder of the teacher's last stage, pre-trained on
reconstruction) gives the teacher factor, a translator the student's; the factors are compared. Each variant carries
its reference's modules, factor width, reconstruction loss and factor loss:
- 'repdistiller' (RepDistiller's Paraphraser(use_bn=False) and Translator(use_bn=True), int(k·C) factor channels, MSE
  reconstruction, then the AT-style pooled factor with P1 and P2);
- 'official' (the authors' code: no BatchNorm anywhere, round(k·C) channels, L1 reconstruction, then L1 between the
  whole L2-normalised factors).
Modules are nn.Sequential (conv, BN or an empty Sequential, LeakyReLU 0.1) × 3, as RepDistiller lays them out."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .at import attention
from .base import FeatureMethod, PreStage, match_heights, paired_stages

OFFICIAL = "official"


def stack(widths, transposed, batch_norm):
    """3x3, stride 1, padding 1 convs with bias from widths[i] to widths[i + 1], each with BN (or nothing) and LeakyReLU."""
    conv = nn.ConvTranspose2d if transposed else nn.Conv2d
    layers = []
    for inputs, outputs in zip(widths, widths[1:]):
        layers += [conv(inputs, outputs, 3, 1, 1), nn.BatchNorm2d(outputs) if batch_norm else nn.Sequential(), nn.LeakyReLU(0.1)]
    return nn.Sequential(*layers)


class Paraphraser(nn.Module):
    def __init__(self, channels, factor):
        super().__init__()
        self.encoder = stack([channels, channels, factor, factor], False, False)
        self.decoder = stack([factor, factor, channels, channels], True, False)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Translator(nn.Module):
    def __init__(self, channels, factor, batch_norm):
        super().__init__()
        self.encoder = stack([channels, channels, factor, factor], False, batch_norm)

    def forward(self, x):
        return self.encoder(x)


class FactorTransfer(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.feature = f"stage{paired_stages(setup)[-1]}"
        self.official = options["Variant"] == OFFICIAL
        teacher_channels = setup.teacher[self.feature][1]
        scaled = teacher_channels * options["Rate"]
        factor = max(1, round(scaled) if self.official else int(scaled))
        self.extras = nn.ModuleDict({"paraphraser": Paraphraser(teacher_channels, factor),
                                     "translator": Translator(setup.student[self.feature][1], factor, not self.official)})

    def pre_stages(self):
        def reconstruction(step, terms):
            feature = step.teacher.features[self.feature]
            rebuilt = self.extras["paraphraser"](feature)
            terms["reconstruction"] = F.l1_loss(rebuilt, feature) if self.options["Reconstruction"] == "l1" else F.mse_loss(rebuilt, feature)
        return {"paraphraser": PreStage(self.extras["paraphraser"].parameters, reconstruction, False)}

    def prepare_epoch(self, stage):
        if stage != "paraphraser":
            self.extras["paraphraser"].eval()

    def method_losses(self, step, terms):
        with torch.no_grad():
            teacher = self.extras["paraphraser"].encoder(step.teacher.features[self.feature])
        student = self.extras["translator"](step.student.features[self.feature])
        if self.official:
            loss = F.l1_loss(F.normalize(student.flatten(1), dim=1), F.normalize(teacher.flatten(1), dim=1))
        else:
            student, teacher = match_heights(student, teacher)
            difference = attention(student, self.options["P1"]) - attention(teacher, self.options["P1"])
            loss = difference.abs().mean() if self.options["P2"] == 1 else difference.pow(self.options["P2"]).mean()
        terms["ft"] = self.options["Beta"] * loss
