"""Factor transfer (Kim et al. 2018): a paraphraser (autoencoder of the teacher's last stage, pre-trained on L1
reconstruction) gives the teacher factor, a translator the student's; L1 between the normalised factors."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .at import attention
from .base import FeatureMethod, PreStage, match_heights, paired_stages


def block(inputs, outputs, transposed):
    conv = nn.ConvTranspose2d if transposed else nn.Conv2d
    return nn.Sequential(conv(inputs, outputs, 3, stride=1, padding=1), nn.BatchNorm2d(outputs), nn.LeakyReLU(0.1))


class Paraphraser(nn.Module):
    def __init__(self, channels, factor):
        super().__init__()
        self.encoder = nn.Sequential(block(channels, channels, False), block(channels, factor, False), block(factor, factor, False))
        self.decoder = nn.Sequential(block(factor, factor, True), block(factor, channels, True), block(channels, channels, True))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Translator(nn.Module):
    def __init__(self, channels, factor):
        super().__init__()
        self.layers = nn.Sequential(block(channels, channels, False), block(channels, factor, False), block(factor, factor, False))

    def forward(self, x):
        return self.layers(x)


class FactorTransfer(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.feature = f"stage{paired_stages(setup)[-1]}"
        teacher_channels = setup.teacher[self.feature][1]
        factor = max(1, round(teacher_channels * options["Rate"]))
        self.extras = nn.ModuleDict({"paraphraser": Paraphraser(teacher_channels, factor),
                                     "translator": Translator(setup.student[self.feature][1], factor)})

    def pre_stages(self):
        def reconstruction(step, terms):
            feature = step.teacher.features[self.feature]
            terms["reconstruction"] = (self.extras["paraphraser"](feature) - feature).abs().mean()
        return {"paraphraser": PreStage(self.extras["paraphraser"].parameters, reconstruction, False)}

    def prepare_epoch(self, stage):
        if stage != "paraphraser":
            self.extras["paraphraser"].eval()

    def method_losses(self, step, terms):
        with torch.no_grad():
            teacher = self.extras["paraphraser"].encoder(step.teacher.features[self.feature])
        student = self.extras["translator"](step.student.features[self.feature])
        if self.options["Variant"] == "official":
            loss = (F.normalize(student.flatten(1), dim=1) - F.normalize(teacher.flatten(1), dim=1)).abs().mean()
        else:
            student, teacher = match_heights(student, teacher)
            difference = attention(student, self.options["P1"]) - attention(teacher, self.options["P1"])
            loss = difference.abs().mean() if self.options["P2"] == 1 else difference.pow(self.options["P2"]).mean()
        terms["ft"] = self.options["Beta"] * loss
