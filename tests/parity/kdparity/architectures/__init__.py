"""PyTorch definitions of KdTools' architectures, by registry name: one line per architecture.

Each entry builds the network for a class count. The network's state-dict keys are RepDistiller's (so KdTools'
safetensors files load with load_state_dict(strict=True)), and forward(x) returns (logits, features) with KdTools'
feature names: stem, stage1..N, stage1_preact..N, embedding. preact_norm(stage) is the BatchNorm whose affine KdTools'
PreActivationNorm(stage) returns (OFD's margins), or None where the architecture has none.
"""
from .cifar_resnet import cifar_resnet
from .mobilenetv2 import mobilenetv2
from .resnet import resnet
from .shufflenet import shufflenet_v1, shufflenet_v2
from .vgg import vgg
from .wrn import wrn

ARCHITECTURES = {
    "resnet8": cifar_resnet(8),
    "resnet14": cifar_resnet(14),
    "resnet20": cifar_resnet(20),
    "resnet32": cifar_resnet(32),
    "resnet44": cifar_resnet(44),
    "resnet56": cifar_resnet(56),
    "resnet110": cifar_resnet(110),
    "resnet8x4": cifar_resnet(8, (32, 64, 128, 256)),
    "resnet32x4": cifar_resnet(32, (32, 64, 128, 256)),
    "resnet18": resnet(False, [2, 2, 2, 2]),
    "resnet34": resnet(False, [3, 4, 6, 3]),
    "resnet50": resnet(True, [3, 4, 6, 3]),
    "vgg8": vgg(8), "vgg8_bn": vgg(8),
    "vgg11": vgg(11), "vgg11_bn": vgg(11),
    "vgg13": vgg(13), "vgg13_bn": vgg(13),
    "vgg16": vgg(16), "vgg16_bn": vgg(16),
    "vgg19": vgg(19), "vgg19_bn": vgg(19),
    "wrn_16_1": wrn(16, 1),
    "wrn_16_2": wrn(16, 2),
    "wrn_28_2": wrn(28, 2),
    "wrn_40_1": wrn(40, 1),
    "wrn_40_2": wrn(40, 2),
    "MobileNetV2": mobilenetv2(),
    "ShuffleV1": shufflenet_v1(),
    "ShuffleV2": shufflenet_v2(),
}
