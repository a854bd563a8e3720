"""Residual blocks of the CIFAR ResNets and ResNet-18/34/50 (He et al. 2016), named like RepDistiller's models."""
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(inputs, outputs, stride=1):
    return nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False)


def projection(inputs, outputs, stride):
    """1x1 conv + BN when the block changes width or resolution, else None (the identity)."""
    if stride == 1 and inputs == outputs:
        return None
    return nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride=stride, bias=False), nn.BatchNorm2d(outputs))


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); returns (output, sum before the last ReLU)."""

    def __init__(self, inputs, planes, stride, shortcut_name):
        super().__init__()
        self.conv1 = conv3x3(inputs, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut_name = shortcut_name
        setattr(self, shortcut_name, projection(inputs, planes, stride))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = getattr(self, self.shortcut_name)
        total = out + (x if shortcut is None else shortcut(x))
        return F.relu(total), total


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand ×4, plus the shortcut; returns (output, pre-activation)."""
    expansion = 4

    def __init__(self, inputs, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.shortcut = projection(inputs, planes * 4, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        total = out + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(total), total


class Stage(nn.Sequential):
    """Blocks in sequence; returns the last block's (output, pre-activation), the stage's two features."""

    def forward(self, x):
        for block in self:
            x, preact = block(x)
        return x, preact
