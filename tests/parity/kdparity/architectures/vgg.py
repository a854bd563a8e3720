"""VGG with batch norm, CIFAR variant (RepDistiller models/vgg.py): five conv blocks, max-pools between, classifier."""
import torch.nn as nn
import torch.nn.functional as F


def _block(inputs, widths):
    """conv(bias)-BN-ReLU per width, without the last ReLU (the network applies it, keeping the BN output)."""
    layers = []
    for width in widths:
        layers += [nn.Conv2d(inputs, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        inputs = width
    return nn.Sequential(*layers[:-1])


class Vgg(nn.Module):
    def __init__(self, widths, classes):
        super().__init__()
        inputs = 3
        for index, block in enumerate(widths):
            setattr(self, f"block{index}", _block(inputs, block))
            inputs = block[-1]
        self.classifier = nn.Linear(inputs, classes)

    def forward(self, x):
        height = x.shape[2]
        features = {"stem": F.relu(self.block0(x))}
        x = features["stem"]
        for index in range(1, 5):
            # The reference pools before block 4 only for 64-pixel (Tiny-ImageNet) inputs.
            if index < 4 or height == 64:
                x = F.max_pool2d(x, 2, 2)
            features[f"stage{index}_preact"] = getattr(self, f"block{index}")(x)
            x = features[f"stage{index}"] = F.relu(features[f"stage{index}_preact"])
        features["embedding"] = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(features["embedding"]), features

    def preact_norm(self, stage):
        """The last BatchNorm of block `stage` (RepDistiller's get_bn_before_relu)."""
        if not 1 <= stage <= 4:
            return None
        return [m for m in getattr(self, f"block{stage}") if isinstance(m, nn.BatchNorm2d)][-1]


LAYOUTS = {
    8: [[64], [128], [256], [512], [512]],
    11: [[64], [128], [256, 256], [512, 512], [512, 512]],
    13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    19: [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
}


def vgg(depth):
    return lambda classes: Vgg(LAYOUTS[depth], classes)
