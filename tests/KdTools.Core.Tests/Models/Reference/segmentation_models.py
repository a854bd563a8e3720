#!/usr/bin/python3
"""PyTorch definitions of the segmentation architectures KdTools registers, written for this test (torchvision's ResNet
layout, the official SKD code's PSP head, torchvision's DeepLabV3 head), and the numbers the C# tests compare against.

Run with Debian's PyTorch 1.13: /usr/bin/python3 segmentation_models.py > segmentation_models.json

- Backbones: torchvision's ResNet (7x7 stride-2 stem conv, BN, ReLU, 3x3 stride-2 max-pool, layer1..4, `downsample`
  projections, stride on the 3x3 conv of a Bottleneck) with replace_stride_with_dilation=[False, True, True]: layer3 and
  layer4 keep stride 1 and dilate 2 and 4; the first block of a dilated layer keeps the previous dilation, as in
  torchvision. BasicBlocks (which torchvision does not dilate) dilate both 3x3 convs, as the official SKD code does.
  A base width other than 64 narrows every layer proportionally.
- The official SKD code's ResNet (networks/pspnet_combine.py), registered as `pspnet_resnet{18,101}_deepstem`: a deep
  stem of three 3x3 convs (width, width, 2*width; BN and ReLU after each; the first at stride 2), a ceil-mode 3x3
  stride-2 max-pool, layer1 taking 2*width channels, and every block of layer3/layer4 dilated 2/4 (the first included).
- PSPNet: `pspmodule` = pyramid pooling over bins 1, 2, 3, 6 (pool, 1x1 conv to in/4 channels, BN, ReLU per bin,
  upsampled and concatenated with the input), `bottleneck` 3x3 conv to in/4, BN, ReLU, Dropout2d(0.1); `head` 1x1 conv.
- DeepLabV3: torchvision's DeepLabHead: ASPP (1x1 branch, three 3x3 branches at rates 12/24/36, image pooling branch,
  projection with Dropout(0.5)), 3x3 conv, BN, ReLU, 1x1 conv; 256 channels at width 64.
- The classification ResNets (with `fc`) give the ImageNet key names a backbone must accept.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, block, layers, width=64, dilated=True, classes=None):
        super().__init__()
        self.inplanes, self.dilation = width, 1
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, width, layers[0], 1, False)
        self.layer2 = self._layer(block, width * 2, layers[1], 2, False)
        self.layer3 = self._layer(block, width * 4, layers[2], 2, dilated)
        self.layer4 = self._layer(block, width * 8, layers[3], 2, dilated)
        if classes is not None:
            self.fc = nn.Linear(width * 8 * block.expansion, classes)

    def _layer(self, block, planes, blocks, stride, dilate):
        previous = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, previous, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, self.dilation, None) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class DeepStemResNet(ResNet):
    def __init__(self, block, layers, width=64):
        nn.Module.__init__(self)
        self.conv1 = nn.Conv2d(3, width, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, 2 * width, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(2 * width)
        self.maxpool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.inplanes = 2 * width
        self.layer1 = self._all_dilated(block, width, layers[0], 1, 1)
        self.layer2 = self._all_dilated(block, width * 2, layers[1], 2, 1)
        self.layer3 = self._all_dilated(block, width * 4, layers[2], 1, 2)
        self.layer4 = self._all_dilated(block, width * 8, layers[3], 1, 4)

    def _all_dilated(self, block, planes, blocks, stride, dilation):
        self.dilation = dilation
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        first = block(self.inplanes, planes, stride, dilation, downsample)
        self.inplanes = planes * block.expansion
        return nn.Sequential(first, *[block(self.inplanes, planes, 1, dilation, None) for _ in range(1, blocks)])

    def forward(self, x):
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        x = self.maxpool(F.relu(self.bn3(self.conv3(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class PyramidPooling(nn.Module):
    def __init__(self, channels, reduced, bins=(1, 2, 3, 6)):
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(channels, reduced, 1, bias=False),
                                                   nn.BatchNorm2d(reduced), nn.ReLU()) for b in bins])
        self.bottleneck = nn.Sequential(nn.Conv2d(channels + len(bins) * reduced, reduced, 3, padding=1, bias=False),
                                        nn.BatchNorm2d(reduced), nn.ReLU(), nn.Dropout2d(0.1))

    def forward(self, x):
        size = x.shape[2:]
        priors = [F.interpolate(s(x), size, mode='bilinear', align_corners=True) for s in self.stages]
        return self.bottleneck(torch.cat(priors + [x], 1))


class PSPNet(nn.Module):
    def __init__(self, backbone, channels, classes):
        super().__init__()
        self.backbone = backbone
        self.pspmodule = PyramidPooling(channels, channels // 4)
        self.head = nn.Conv2d(channels // 4, classes, 1)

    def forward(self, x):
        return self.head(self.pspmodule(self.backbone(x)))


class ASPP(nn.Module):
    def __init__(self, channels, out, rates=(12, 24, 36)):
        super().__init__()
        branches = [nn.Sequential(nn.Conv2d(channels, out, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU())]
        branches += [nn.Sequential(nn.Conv2d(channels, out, 3, padding=r, dilation=r, bias=False), nn.BatchNorm2d(out), nn.ReLU())
                     for r in rates]
        branches.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, out, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(nn.Conv2d(5 * out, out, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        outputs = [branch(x) for branch in self.convs]
        outputs[-1] = F.interpolate(outputs[-1], x.shape[2:], mode='bilinear', align_corners=False)
        return self.project(torch.cat(outputs, 1))


class DeepLabV3(nn.Module):
    def __init__(self, backbone, channels, width, classes):
        super().__init__()
        out = 256 * width // 64
        self.backbone = backbone
        self.classifier = nn.Sequential(ASPP(channels, out), nn.Conv2d(out, out, 3, padding=1, bias=False),
                                        nn.BatchNorm2d(out), nn.ReLU(), nn.Conv2d(out, classes, 1))

    def forward(self, x):
        return self.classifier(self.backbone(x))


LAYOUTS = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3]),
           101: (Bottleneck, [3, 4, 23, 3])}


def build(head, depth, width, classes, deep_stem=False):
    block, layers = LAYOUTS[depth]
    backbone = DeepStemResNet(block, layers, width) if deep_stem else ResNet(block, layers, width)
    channels = width * 8 * block.expansion
    return PSPNet(backbone, channels, classes) if head == 'pspnet' else DeepLabV3(backbone, channels, width, classes)


def fill_deterministically(model):
    """Weights any language can rebuild: tensor j (in ordinal key order) gets scale·sin(0.7·i + 1.3·j) at flat index i.

    Conv and linear weights are scaled by 1/sqrt(fan-in), biases and BN shifts by 0.1; BN scales are 1 + 0.1·sin and
    running variances 1 + 0.5·(1 + sin)/2, so activations stay of order one through a deep network.
    """
    state = model.state_dict()
    for j, key in enumerate(sorted(state)):
        tensor = state[key]
        if key.endswith('num_batches_tracked'):
            continue
        wave = torch.sin(0.7 * torch.arange(tensor.numel(), dtype=torch.float64) + 1.3 * j).view(tensor.shape)
        if key.endswith('running_var'):
            value = 1 + 0.25 * (1 + wave)
        elif tensor.dim() == 1 and key.endswith('weight'):
            value = 1 + 0.1 * wave
        elif tensor.dim() == 1:
            value = 0.1 * wave
        else:
            value = wave / tensor[0].numel() ** 0.5
        tensor.copy_(value.to(tensor.dtype))


def parity_input(shape):
    """sin(0.3·i) over the flat index: the input both sides feed the filled networks."""
    count = 1
    for s in shape:
        count *= s
    return torch.sin(0.3 * torch.arange(count, dtype=torch.float64)).view(shape).float()


def describe(model, with_keys):
    entry = {'parameters': sum(p.numel() for p in model.parameters())}
    if with_keys:
        entry['state'] = {k: list(v.shape) for k, v in model.state_dict().items()}
    return entry


def main():
    torch.manual_seed(0)
    classes = 21
    architectures = {}
    for head, depth, width in [('pspnet', 18, 64), ('pspnet', 34, 64), ('pspnet', 50, 64), ('pspnet', 101, 64),
                               ('deeplabv3', 50, 64), ('deeplabv3', 101, 64),
                               ('pspnet', 18, 16), ('pspnet', 34, 16), ('pspnet', 50, 16), ('pspnet', 101, 16),
                               ('deeplabv3', 50, 16), ('pspnet', 18, 8)]:
        name = f'{head}_resnet{depth}' + ('' if width == 64 else f'_w{width}')
        architectures[name] = describe(build(head, depth, width, classes), with_keys=name in (
            'pspnet_resnet18', 'pspnet_resnet50', 'deeplabv3_resnet50', 'pspnet_resnet18_w8'))

    for depth, width in [(18, 64), (101, 64), (18, 16), (101, 16)]:
        name = f'pspnet_resnet{depth}_deepstem' + ('' if width == 64 else f'_w{width}')
        architectures[name] = describe(build('pspnet', depth, width, classes, deep_stem=True),
                                       with_keys=name in ('pspnet_resnet18_deepstem', 'pspnet_resnet101_deepstem_w16'))

    # Output stride 8 with the reference's feature sizes: a 65x65 input gives 9x9 maps, 64x64 gives 8x8.
    model = build('pspnet', 18, 8, classes).eval()
    with torch.no_grad():
        sides = [model.backbone(torch.zeros(1, 3, s, s)).shape[-1] for s in (64, 65, 72)]
    # The deep stem's ceil-mode pool: 64 -> 9, 65 -> 9, 72 -> 10, and the official 512 crop -> 65.
    model = build('pspnet', 18, 16, classes, deep_stem=True).eval()
    with torch.no_grad():
        deep_stem_sides = [model.backbone(torch.zeros(1, 3, s, s)).shape[-1] for s in (64, 65, 72, 512)]

    parity = {}
    for name, head, depth, width, deep_stem in [('pspnet_resnet18_w8', 'pspnet', 18, 8, False),
                                                ('deeplabv3_resnet50_w16', 'deeplabv3', 50, 16, False),
                                                ('pspnet_resnet18_deepstem_w16', 'pspnet', 18, 16, True)]:
        model = build(head, depth, width, 5, deep_stem).eval()
        fill_deterministically(model)
        shape = [2, 3, 33, 41]
        with torch.no_grad():
            logits = model(parity_input(shape))
        parity[name] = {'classes': 5, 'input': shape, 'logits_shape': list(logits.shape), 'logits': logits.flatten().tolist()}

    imagenet = {f'resnet{d}': {k: list(v.shape) for k, v in ResNet(*LAYOUTS[d], dilated=False, classes=1000).state_dict().items()}
                for d in (18, 50)}
    print(json.dumps({'classes': classes, 'architectures': architectures, 'output_sides_64_65_72': sides,
                      'deep_stem_output_sides_64_65_72_512': deep_stem_sides,
                      'parity': parity, 'imagenet_keys': imagenet}, separators=(',', ':')))


if __name__ == '__main__':
    main()
