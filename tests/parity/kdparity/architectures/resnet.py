"""ResNet-18/34/50 with the CIFAR stem (RepDistiller models/resnetv2.py): four stages 64/128/256/512, linear."""
import torch.nn as nn
import torch.nn.functional as F

from .residual import BasicBlock, Bottleneck, Stage, conv3x3


class ResNet(nn.Module):
    def __init__(self, bottleneck, blocks, classes):
        super().__init__()
        expansion = 4 if bottleneck else 1
        self.conv1 = conv3x3(3, 64)
        self.bn1 = nn.BatchNorm2d(64)
        inputs = 64
        for index, (planes, count, stride) in enumerate(zip([64, 128, 256, 512], blocks, [1, 2, 2, 2]), start=1):
            layers = []
            for i in range(count):
                layers.append(Bottleneck(inputs, planes, stride if i == 0 else 1) if bottleneck
                              else BasicBlock(inputs, planes, stride if i == 0 else 1, "shortcut"))
                inputs = planes * expansion
            setattr(self, f"layer{index}", Stage(*layers))
        self.linear = nn.Linear(512 * expansion, classes)

    def forward(self, x):
        features = {"stem": F.relu(self.bn1(self.conv1(x)))}
        x = features["stem"]
        for index in range(1, 5):
            x, features[f"stage{index}_preact"] = getattr(self, f"layer{index}")(x)
            features[f"stage{index}"] = x
        features["embedding"] = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.linear(features["embedding"]), features

    def preact_norm(self, stage):
        """The last block's bn2 (BasicBlock) or bn3 (Bottleneck): RepDistiller's get_bn_before_relu."""
        if not 1 <= stage <= 4:
            return None
        block = getattr(self, f"layer{stage}")[-1]
        return block.bn3 if isinstance(block, Bottleneck) else block.bn2


def resnet(bottleneck, blocks):
    return lambda classes: ResNet(bottleneck, blocks, classes)
