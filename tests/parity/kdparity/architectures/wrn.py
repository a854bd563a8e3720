"""Wide ResNets (Zagoruyko & Komodakis 2016; RepDistiller models/wrn.py, dropout 0).

Features as the reference's forward(is_feat=True) defines them: stem = the stem conv's output; stageN = the raw output
of block group N (a bare residual sum); stageN_preact = the BatchNorm that follows it (the next group's first bn1, or
the final bn1), i.e. the reference's preact=True features; embedding = the pooled ReLU of the final bn1. The BN output
is taken where the network computes it, so train mode updates each BatchNorm once.
"""
import torch.nn as nn
import torch.nn.functional as F


class WideBlock(nn.Module):
    """Pre-activation block; returns (output, bn1(x)), the BN output it computes at its entry."""

    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inputs)
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, padding=1, bias=False)
        self.convShortcut = None if inputs == outputs else nn.Conv2d(inputs, outputs, 1, stride=stride, bias=False)

    def forward(self, x):
        entry = self.bn1(x)
        activated = F.relu(entry)
        out = self.conv2(F.relu(self.bn2(self.conv1(activated))))
        return out + (x if self.convShortcut is None else self.convShortcut(activated)), entry


class NetworkBlock(nn.Module):
    """One block group (attribute `layer`); returns (output, its first block's entry BN output)."""

    def __init__(self, blocks, inputs, outputs, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WideBlock(inputs if i == 0 else outputs, outputs, stride if i == 0 else 1) for i in range(blocks)])

    def forward(self, x):
        x, entry = self.layer[0](x)
        for block in list(self.layer)[1:]:
            x, _ = block(x)
        return x, entry


class WideResNet(nn.Module):
    def __init__(self, depth, widen, classes):
        super().__init__()
        blocks = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
        self.block1 = NetworkBlock(blocks, widths[0], widths[1], 1)
        self.block2 = NetworkBlock(blocks, widths[1], widths[2], 2)
        self.block3 = NetworkBlock(blocks, widths[2], widths[3], 2)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.fc = nn.Linear(widths[3], classes)

    def forward(self, x):
        features = {"stem": self.conv1(x)}
        features["stage1"], _ = self.block1(features["stem"])
        features["stage2"], features["stage1_preact"] = self.block2(features["stage1"])
        features["stage3"], features["stage2_preact"] = self.block3(features["stage2"])
        features["stage3_preact"] = self.bn1(features["stage3"])
        features["embedding"] = F.adaptive_avg_pool2d(F.relu(features["stage3_preact"]), 1).flatten(1)
        return self.fc(features["embedding"]), features

    def preact_norm(self, stage):
        """The BatchNorm after block group `stage`, whose output is stageN_preact (RepDistiller's get_bn_before_relu)."""
        return {1: lambda: self.block2.layer[0].bn1, 2: lambda: self.block3.layer[0].bn1, 3: lambda: self.bn1}.get(stage, lambda: None)()


def wrn(depth, widen):
    return lambda classes: WideResNet(depth, widen, classes)
