"""MobileNetV2 x0.5 (Sandler et al. 2018) as RepDistiller's mobile_half (models/mobilenetv2.py, expansion 6).

Features as the reference's forward(is_feat=True) defines them: stem = the stride-2 conv-BN-ReLU; stageN = the output
of block groups 1, 2, 4 and 6, which is linear, so stageN_preact is the same tensor (the reference returns the same
list with preact=True); embedding = the pooled output of the 1x1 conv-BN-ReLU to 1280 channels.
"""
import torch.nn as nn
import torch.nn.functional as F

# Whether the group expands (else expansion 1), width at multiplier 1, blocks, first block's stride.
GROUPS = [(False, 16, 1, 1), (True, 24, 2, 1), (True, 32, 3, 2), (True, 64, 4, 2), (True, 96, 3, 1), (True, 160, 3, 2), (True, 320, 1, 1)]
STAGE_ENDS = [1, 2, 4, 6]


def conv_bn(inputs, outputs, kernel, stride=1, groups=1, relu=True):
    layers = [nn.Conv2d(inputs, outputs, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(outputs)]
    return layers + [nn.ReLU()] if relu else layers


class InvertedResidual(nn.Module):
    """conv = [1x1 expand, BN, ReLU, 3x3 depthwise, BN, ReLU, 1x1 project, BN]; plus the input where shapes allow."""

    def __init__(self, inputs, outputs, stride, expansion):
        super().__init__()
        hidden = inputs * expansion
        self.conv = nn.Sequential(*conv_bn(inputs, hidden, 1), *conv_bn(hidden, hidden, 3, stride, groups=hidden),
                                  *conv_bn(hidden, outputs, 1, relu=False))
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x):
        out = self.conv(x)
        return x + out if self.residual else out


class MobileNetV2(nn.Module):
    def __init__(self, expansion, multiplier, classes):
        super().__init__()
        inputs = int(32 * multiplier)
        self.conv1 = nn.Sequential(*conv_bn(3, inputs, 3, 2))
        self.blocks = nn.ModuleList()
        for expands, width, count, stride in GROUPS:
            outputs = int(width * multiplier)
            group = []
            for i in range(count):
                group.append(InvertedResidual(inputs, outputs, stride if i == 0 else 1, expansion if expands else 1))
                inputs = outputs
            self.blocks.append(nn.Sequential(*group))
        self.conv2 = nn.Sequential(*conv_bn(inputs, 1280, 1))
        self.classifier = nn.Sequential(nn.Linear(1280, classes))

    def forward(self, x):
        features = {"stem": self.conv1(x)}
        x, first = features["stem"], 0
        for stage, last in enumerate(STAGE_ENDS, start=1):
            for group in self.blocks[first:last + 1]:
                x = group(x)
            first = last + 1
            features[f"stage{stage}"] = features[f"stage{stage}_preact"] = x
        features["embedding"] = F.adaptive_avg_pool2d(self.conv2(x), 1).flatten(1)
        return self.classifier(features["embedding"]), features

    def preact_norm(self, stage):
        """The last BN of the stage's last block, before its residual sum (RepDistiller's get_bn_before_relu)."""
        return self.blocks[STAGE_ENDS[stage - 1]][-1].conv[-1] if 1 <= stage <= len(STAGE_ENDS) else None


def mobilenetv2(expansion=6, multiplier=0.5):
    return lambda classes: MobileNetV2(expansion, multiplier, classes)
