"""ShuffleNet V1 (3 groups) and V2 (x1) as RepDistiller's ShuffleV1 and ShuffleV2 (models/ShuffleNetv1.py, v2.py).

Features as the reference's forward(is_feat=True, preact=...) defines them: stem = the 1x1 conv-BN-ReLU to 24 channels;
stageN = the stage's output; stageN_preact = its last unit's sum (V1) or concatenation (V2) before the ReLU. For V2
the output is channel-shuffled and the pre-activation is not. embedding = the pooled last stage (V1), or the pooled
1x1 conv-BN-ReLU to 1024 channels after it (V2).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .residual import Stage


def shuffle(x, groups):
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class UnitV1(nn.Module):
    """Grouped 1x1 reduce (ungrouped on the stem), shuffle, 3x3 depthwise, grouped 1x1 expand; add or concatenate."""

    def __init__(self, inputs, outputs, stride, groups, first_groups):
        super().__init__()
        middle = outputs // 4
        self.first_groups, self.stride = first_groups, stride
        self.conv1 = nn.Conv2d(inputs, middle, 1, groups=first_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(middle)
        self.conv2 = nn.Conv2d(middle, middle, 3, stride, 1, groups=middle, bias=False)
        self.bn2 = nn.BatchNorm2d(middle)
        self.conv3 = nn.Conv2d(middle, outputs, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(outputs)

    def forward(self, x):
        out = shuffle(F.relu(self.bn1(self.conv1(x))), self.first_groups)
        out = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(out)))))
        total = torch.cat([out, F.avg_pool2d(x, 3, 2, 1)], 1) if self.stride == 2 else out + x
        return F.relu(total), total


class ShuffleNetV1(nn.Module):
    def __init__(self, widths, blocks, groups, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        inputs = 24
        for index, (width, count) in enumerate(zip(widths, blocks), start=1):
            # The first unit halves the side and concatenates its pooled input: it adds width - inputs channels.
            units = [UnitV1(inputs, width - inputs, 2, groups, 1 if inputs == 24 else groups)]
            units += [UnitV1(width, width, 1, groups, groups) for _ in range(count - 1)]
            setattr(self, f"layer{index}", Stage(*units))
            inputs = width
        self.linear = nn.Linear(inputs, classes)

    def forward(self, x):
        features = {"stem": F.relu(self.bn1(self.conv1(x)))}
        x = features["stem"]
        for index in range(1, 4):
            x, features[f"stage{index}_preact"] = getattr(self, f"layer{index}")(x)
            features[f"stage{index}"] = x
        features["embedding"] = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.linear(features["embedding"]), features

    def preact_norm(self, stage):
        """bn3 of the stage's last unit, the BN its pre-activation sum comes from (RepDistiller lists none for ShuffleNets)."""
        return getattr(self, f"layer{stage}")[-1].bn3 if 1 <= stage <= 3 else None


class UnitV2(nn.Module):
    """The first half passes; the second goes through 1x1-BN-ReLU, 3x3 depthwise-BN, 1x1-BN(-ReLU); shuffle in 2."""

    def __init__(self, channels):
        super().__init__()
        half = channels // 2
        self.conv1 = nn.Conv2d(half, half, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(half, half, 3, 1, 1, groups=half, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv3 = nn.Conv2d(half, half, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(half)

    def forward(self, x):
        half = x.shape[1] // 2
        kept, branch = x[:, :half], x[:, half:]
        branch = self.bn3(self.conv3(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(branch)))))))
        return shuffle(torch.cat([kept, F.relu(branch)], 1), 2), torch.cat([kept, branch], 1)


class DownUnitV2(nn.Module):
    """Two stride-2 branches over the whole input, each giving half the output channels; shuffle in 2."""

    def __init__(self, inputs, outputs):
        super().__init__()
        half = outputs // 2
        self.conv1 = nn.Conv2d(inputs, inputs, 3, 2, 1, groups=inputs, bias=False)
        self.bn1 = nn.BatchNorm2d(inputs)
        self.conv2 = nn.Conv2d(inputs, half, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv3 = nn.Conv2d(inputs, half, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(half)
        self.conv4 = nn.Conv2d(half, half, 3, 2, 1, groups=half, bias=False)
        self.bn4 = nn.BatchNorm2d(half)
        self.conv5 = nn.Conv2d(half, half, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(half)

    def forward(self, x):
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = self.bn4(self.conv4(F.relu(self.bn3(self.conv3(x)))))
        right = F.relu(self.bn5(self.conv5(right)))
        return shuffle(torch.cat([left, right], 1), 2), None


class ShuffleNetV2(nn.Module):
    def __init__(self, widths, units, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        inputs = 24
        for index, (width, count) in enumerate(zip(widths[:3], units), start=1):
            setattr(self, f"layer{index}", Stage(DownUnitV2(inputs, width), *[UnitV2(width) for _ in range(count)]))
            inputs = width
        self.conv2 = nn.Conv2d(inputs, widths[3], 1, bias=False)
        self.bn2 = nn.BatchNorm2d(widths[3])
        self.linear = nn.Linear(widths[3], classes)

    def forward(self, x):
        features = {"stem": F.relu(self.bn1(self.conv1(x)))}
        x = features["stem"]
        for index in range(1, 4):
            x, features[f"stage{index}_preact"] = getattr(self, f"layer{index}")(x)
            features[f"stage{index}"] = x
        features["embedding"] = F.adaptive_avg_pool2d(F.relu(self.bn2(self.conv2(x))), 1).flatten(1)
        return self.linear(features["embedding"]), features

    def preact_norm(self, stage):
        """None: half of a pre-activation's channels pass through from the unit's input, which no BatchNorm produces."""
        return None


def shufflenet_v1():
    return lambda classes: ShuffleNetV1([240, 480, 960], [4, 8, 4], 3, classes)


def shufflenet_v2():
    return lambda classes: ShuffleNetV2([116, 232, 464, 1024], [3, 7, 3], classes)
