"""CIFAR ResNets (RepDistiller models/resnet.py): 3x3 stem, three stages of (depth - 2) / 6 BasicBlocks, fc."""
import torch.nn as nn
import torch.nn.functional as F

from .residual import BasicBlock, Stage, conv3x3


class CifarResNet(nn.Module):
    def __init__(self, depth, widths, classes):
        super().__init__()
        blocks = (depth - 2) // 6
        self.conv1 = conv3x3(3, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = self._stage(widths[0], widths[1], blocks, 1)
        self.layer2 = self._stage(widths[1], widths[2], blocks, 2)
        self.layer3 = self._stage(widths[2], widths[3], blocks, 2)
        self.fc = nn.Linear(widths[3], classes)

    @staticmethod
    def _stage(inputs, planes, blocks, stride):
        return Stage(*[BasicBlock(inputs if i == 0 else planes, planes, stride if i == 0 else 1, "downsample") for i in range(blocks)])

    def forward(self, x):
        features = {"stem": F.relu(self.bn1(self.conv1(x)))}
        x = features["stem"]
        for index, stage in enumerate([self.layer1, self.layer2, self.layer3], start=1):
            x, features[f"stage{index}_preact"] = stage(x)
            features[f"stage{index}"] = x
        features["embedding"] = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(features["embedding"]), features

    def preact_norm(self, stage):
        """The last block's bn2 (RepDistiller's get_bn_before_relu)."""
        return getattr(self, f"layer{stage}")[-1].bn2 if 1 <= stage <= 3 else None


def cifar_resnet(depth, widths=(16, 16, 32, 64)):
    return lambda classes: CifarResNet(depth, widths, classes)
