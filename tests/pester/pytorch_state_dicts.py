#!/usr/bin/python3
"""Writes what tests/pester/Models.Tests.ps1 imports: state dicts as PyTorch users write them, images, and PyTorch's
own predictions for those images; and reads back what KdTools saves.

Run with Debian's /usr/bin/python3 (PyTorch 1.13, PIL):
  python3 pytorch_state_dicts.py OUT_DIR                      files, images and expected.json into OUT_DIR
  python3 pytorch_state_dicts.py --read CHECKPOINT IMAGE_DIR   a KdTools resnet8 checkpoint loaded into the PyTorch
                                                               network below as a plain state dict (strict
                                                               load_state_dict of load_file's tensors, as they are),
                                                               its predictions for the images as JSON on stdout

Debian 12 has no `safetensors` module, so save_file below writes the format itself, as safetensors.torch.save_file
does: an 8-byte little-endian header length, a JSON header (dtype, shape and byte range of each tensor; no
__metadata__), padded with spaces to 8 bytes, then the raw little-endian tensor data.

The network is RepDistiller's CIFAR resnet8 (models/resnet.py), written out here: 3x3 stem conv-BN-ReLU, one
BasicBlock per stage at 16/32/64 channels (strides 1/2/2, `downsample` = 1x1 conv + BN), global average pooling, `fc`.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

CLASSES = 5
SIDE = 16
MEAN = [0.5071, 0.4865, 0.4409]
STD = [0.2673, 0.2564, 0.2762]
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
TORCH_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet8(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2))
        self.layer3 = nn.Sequential(BasicBlock(32, 64, 2))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean(dim=(2, 3)))


def save_file(tensors, path):
    header, offset, chunks = {}, 0, []
    for name, tensor in tensors.items():
        data = tensor.detach().contiguous().numpy().astype(tensor.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def load_file(path):
    """The tensors and metadata of a safetensors file, as safetensors.torch.load_file and safe_open read them."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = TORCH_DTYPES[entry["dtype"]]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(entry["shape"]) if end > begin \
            else torch.zeros(entry["shape"], dtype=dtype)
    return tensors, metadata


def trained_looking(model, generator):
    """BatchNorm statistics and affine parameters away from their defaults and a sharper classifier than PyTorch's
    initialisation, so that loading each tensor matters and the predictions are neither uniform nor saturated."""
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                tensor.fill_(7)
            elif name.endswith("running_var") or (name.endswith("weight") and tensor.dim() == 1):
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
            elif name.endswith("running_mean") or name.endswith("bias"):
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
            elif name == "fc.weight":
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
    return model.eval()


def prepare(path, mean=MEAN, std=STD):
    """The image as KdTools reads it: RGB, resized to SIDE with antialiased bilinear and rounded back to uint8, normalised."""
    pixels = torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1)
    if pixels.shape[1:] != (SIDE, SIDE):
        resized = F.interpolate(pixels.unsqueeze(0).float(), size=(SIDE, SIDE), mode="bilinear", align_corners=False, antialias=True)
        pixels = resized.squeeze(0).round().clamp(0, 255).to(torch.uint8)
    x = pixels.float().div(255)
    return (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)


def main(out):
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    torch.manual_seed(2024)  # PyTorch's own initialisation of the convolutions
    generator = torch.Generator().manual_seed(2024)
    model = trained_looking(ResNet8(CLASSES), generator)
    state = model.state_dict()

    # What a user writes with safetensors.torch.save_file(model.state_dict(), ...), in float32 and float64 (the latter
    # also without BatchNorm counters, as older checkpoints are).
    save_file(dict(state), os.path.join(out, "resnet8_f32.safetensors"))
    save_file({k: (v.double() if v.is_floating_point() else v) for k, v in state.items() if not k.endswith("num_batches_tracked")},
              os.path.join(out, "resnet8_f64.safetensors"))
    # A 10-class network of the same backbone, for fine-tuning to CLASSES classes.
    save_file(dict(trained_looking(ResNet8(10), generator).state_dict()), os.path.join(out, "resnet8_10classes.safetensors"))
    # Broken: a renamed key, a dropped key and a reshaped tensor.
    broken = {("linear.weight" if k == "fc.weight" else k): v for k, v in state.items() if k != "layer2.0.bn1.running_var"}
    broken["conv1.weight"] = broken["conv1.weight"][:8]
    save_file(broken, os.path.join(out, "resnet8_broken.safetensors"))

    images = {}
    for i, size in enumerate([SIDE, SIDE, SIDE, 2 * SIDE]):
        name = f"img{i}.png"
        pixels = torch.randint(0, 256, (size, size, 3), generator=generator, dtype=torch.uint8).numpy()
        Image.fromarray(pixels, "RGB").save(os.path.join(out, "images", name))
        with torch.no_grad():
            probabilities = model(prepare(os.path.join(out, "images", name)).unsqueeze(0)).softmax(1)[0].double()
        top = probabilities.topk(CLASSES)
        images[name] = {"classes": top.indices.tolist(), "probabilities": top.values.tolist()}
    with open(os.path.join(out, "images", "notes.txt"), "w") as f:
        f.write("not an image: a folder's images are its image files only\n")

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"architecture": "resnet8", "classes": CLASSES, "imageSize": SIDE, "mean": MEAN, "std": STD, "images": images}, f, indent=1)


def read_kdtools(checkpoint, image_dir):
    tensors, metadata = load_file(checkpoint)
    model = ResNet8(int(metadata["classes"]))
    model.load_state_dict(tensors, strict=True)
    model.eval()
    normalization = json.loads(metadata["normalization"])
    predictions = {}
    for name in sorted(os.listdir(image_dir)):
        if name.endswith(".png"):
            with torch.no_grad():
                x = prepare(os.path.join(image_dir, name), normalization["mean"], normalization["std"]).unsqueeze(0)
                probabilities = model(x).softmax(1)[0].double()
            predictions[name] = {"class": int(probabilities.argmax()), "probability": float(probabilities.max())}
    json.dump(predictions, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "--read":
        read_kdtools(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])
