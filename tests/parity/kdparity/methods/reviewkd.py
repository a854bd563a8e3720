"""ReviewKD (Chen et al. 2021, as mdistiller): the student's pooled embedding (as a 1x1 map) and stage N … 1 pass deep
to shallow through attention-based fusion (ABF) modules: a 1x1 conv + BN to the middle width, below the deepest level a
fusion with the deeper level's map (nearest-upsampled) weighted by two sigmoid attention maps, a nearest resize to the
teacher's map size and a 3x3 conv + BN to the teacher's width. The hierarchical context loss compares each output with
the teacher's stage pre-activation (and its embedding): per pair MSE plus the MSEs of 4x4, 2x2 and 1x1 average pools
smaller than the map, weighted 1/2, 1/4, 1/8, divided by the weights' sum. CE + warm-up·β·HCL."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import FeatureMethod, paired_stages, warmup


class Abf(nn.Module):
    def __init__(self, inputs, middle, outputs, output_size, fuse):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(inputs, middle, 1, bias=False), nn.BatchNorm2d(middle))
        self.conv2 = nn.Sequential(nn.Conv2d(middle, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs))
        self.att_conv = nn.Sequential(nn.Conv2d(middle * 2, 2, 1), nn.Sigmoid()) if fuse else None
        self.output_size = tuple(output_size)

    def forward(self, x, residual):
        x = self.conv1(x)
        if self.att_conv is not None:
            residual = F.interpolate(residual, x.shape[2:], mode="nearest")
            attention = self.att_conv(torch.cat([x, residual], 1))
            x = x * attention[:, 0:1] + residual * attention[:, 1:2]
        if tuple(x.shape[2:]) != self.output_size:
            x = F.interpolate(x, self.output_size, mode="nearest")
        return self.conv2(x), x


def hcl(students, teachers):
    total = 0
    for s, t in zip(students, teachers):
        loss, weight, weights = F.mse_loss(s, t), 1.0, 1.0
        for level in [4, 2, 1]:
            if level >= s.shape[2]:
                continue
            weight /= 2
            loss = loss + weight * F.mse_loss(F.adaptive_avg_pool2d(s, level), F.adaptive_avg_pool2d(t, level))
            weights += weight
        total = total + loss / weights
    return total


def as_map(embedding):
    return embedding[:, :, None, None]


class ReviewKd(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.stages = paired_stages(setup)
        middle = min(options["MaxMidChannels"], setup.student["embedding"][1])
        levels = [Abf(setup.student["embedding"][1], middle, setup.teacher["embedding"][1], (1, 1), False)]
        for s in reversed(self.stages):
            teacher = setup.teacher[f"stage{s}_preact"]
            levels.append(Abf(setup.student[f"stage{s}"][1], middle, teacher[1], teacher[2:], True))
        self.extras = nn.ModuleList(levels)

    def method_losses(self, step, terms):
        output, residual = self.extras[0](as_map(step.student.features["embedding"]), None)
        fused = [output]
        for abf, s in zip(self.extras[1:], reversed(self.stages)):
            output, residual = abf(step.student.features[f"stage{s}"], residual)
            fused.insert(0, output)
        targets = [step.teacher.features[f"stage{s}_preact"] for s in self.stages] + [as_map(step.teacher.features["embedding"])]
        terms["reviewkd"] = warmup(step, self.options["WarmupEpochs"]) * self.options["Beta"] * hcl(fused, [t.detach() for t in targets])
