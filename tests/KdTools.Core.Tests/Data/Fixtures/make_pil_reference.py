#!/usr/bin/python3
"""Writes pil_reference.json: what PIL (Pillow 9.4, Debian 12's python3-pil) makes of small uint8 RGB images under
each operation of AutoAugment's CIFAR-10 policy, and torchvision's reflect padding, for BatchAugmentation's tests.

Run from this folder with Debian's interpreter: /usr/bin/python3 make_pil_reference.py
Each operation is applied as the AutoAugment implementation the BYOT authors train with (DeepVoltaire's
autoaugment.py) calls PIL: shears with bicubic resampling and a (128, 128, 128) fill, translations with nearest
resampling and that fill, rotations of an RGBA copy (nearest) composited over grey 128, ImageOps and ImageEnhance
for the rest. The parameters are stored as the operations receive them (signed shear, signed pixel offset, degrees,
threshold, bits, enhancement factor), one per image, covering every magnitude level of the policy's ranges.
The script is deterministic: rerunning it with the same Pillow gives the same file.
"""
import base64
import json

import numpy as np
import torch
import PIL
from PIL import Image, ImageEnhance, ImageOps

GREY = (128, 128, 128)
LEVELS = 10


def levels(start, stop):
    return [float(v) for v in np.linspace(start, stop, LEVELS)]


# The policy's magnitude ranges, level 0..9 (AutoAugment's CIFAR-10 implementation used by the BYOT authors).
RANGES = {
    "ShearX": levels(0, 0.3),
    "ShearY": levels(0, 0.3),
    "TranslateX": levels(0, 150 / 331),
    "TranslateY": levels(0, 150 / 331),
    "Rotate": levels(0, 30),
    "Color": levels(0.0, 0.9),
    "Posterize": [int(v) for v in np.round(np.linspace(8, 4, LEVELS), 0)],
    "Solarize": levels(256, 0),
    "Contrast": levels(0.0, 0.9),
    "Sharpness": levels(0.0, 0.9),
    "Brightness": levels(0.0, 0.9),
}


def shear_x(img, s):
    return img.transform(img.size, Image.AFFINE, (1, s, 0, 0, 1, 0), Image.BICUBIC, fillcolor=GREY)


def shear_y(img, s):
    return img.transform(img.size, Image.AFFINE, (1, 0, 0, s, 1, 0), Image.BICUBIC, fillcolor=GREY)


def translate_x(img, t):
    return img.transform(img.size, Image.AFFINE, (1, 0, t, 0, 1, 0), fillcolor=GREY)


def translate_y(img, t):
    return img.transform(img.size, Image.AFFINE, (1, 0, 0, 0, 1, t), fillcolor=GREY)


def rotate(img, degrees):
    turned = img.convert("RGBA").rotate(degrees)
    return Image.composite(turned, Image.new("RGBA", turned.size, (128,) * 4), turned).convert(img.mode)


def parameters(op, level, sign, width, height):
    """The argument an operation receives at a magnitude level and sign, as the implementation computes it."""
    magnitude = RANGES[op][level] if op in RANGES else None
    if op in ("ShearX", "ShearY"):
        return magnitude * sign
    if op == "TranslateX":
        return magnitude * width * sign
    if op == "TranslateY":
        return magnitude * height * sign
    if op in ("Color", "Contrast", "Sharpness", "Brightness"):
        return 1 + magnitude * sign
    return magnitude


OPERATIONS = {
    "ShearX": shear_x,
    "ShearY": shear_y,
    "TranslateX": translate_x,
    "TranslateY": translate_y,
    "Rotate": rotate,
    "AutoContrast": lambda img, _: ImageOps.autocontrast(img),
    "Invert": lambda img, _: ImageOps.invert(img),
    "Equalize": lambda img, _: ImageOps.equalize(img),
    "Solarize": lambda img, threshold: ImageOps.solarize(img, threshold),
    "Posterize": lambda img, bits: ImageOps.posterize(img, bits),
    "Contrast": lambda img, f: ImageEnhance.Contrast(img).enhance(f),
    "Color": lambda img, f: ImageEnhance.Color(img).enhance(f),
    "Brightness": lambda img, f: ImageEnhance.Brightness(img).enhance(f),
    "Sharpness": lambda img, f: ImageEnhance.Sharpness(img).enhance(f),
}


def image_batch(rng, count, height, width):
    """HWC images: random ones, then (when there are enough) a constant one, then always a two-valued one and a
    low-contrast one."""
    batch = rng.integers(0, 256, size=(count, height, width, 3), dtype=np.uint8)
    if count > 4:
        batch[-3] = 77
    batch[-2] = np.where(rng.random((height, width, 3)) < 0.5, 30, 200).astype(np.uint8)
    batch[-1] = rng.integers(100, 121, size=(height, width, 3), dtype=np.uint8)
    return batch


def encode(nhwc):
    return base64.b64encode(np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)).tobytes()).decode("ascii")


def main():
    rng = np.random.default_rng(8)
    sets = []
    # Small even and odd sizes with every operation at every level (image i: level i % 10, sign + for even i), and
    # CIFAR's 32×32, where equalisation has enough pixels per channel to act (below 256 + the top count it cannot),
    # for the operations that depend on the size, at levels 9, 7, 5, 3.
    layouts = (
        (12, 8, 10, list(OPERATIONS), lambda i: i % LEVELS),
        (12, 7, 9, list(OPERATIONS), lambda i: i % LEVELS),
        (4, 32, 32, ["ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Equalize"],
         lambda i: LEVELS - 1 - 2 * i),
    )
    for count, height, width, ops, level in layouts:
        batch = image_batch(rng, count, height, width)
        cases = []
        for op in ops:
            params = [parameters(op, level(i), 1 if i % 2 == 0 else -1, width, height) for i in range(count)]
            outputs = np.stack([np.asarray(OPERATIONS[op](Image.fromarray(img, "RGB"), p)) for img, p in zip(batch, params)])
            cases.append({"op": op, "parameters": params, "expected": encode(outputs)})
        sets.append({"shape": [count, 3, height, width], "images": encode(batch), "cases": cases})

    # torchvision's RandomCrop(padding=4, padding_mode='reflect') pads PIL images with np.pad(mode='reflect') and
    # tensors with torch's reflect padding; both mirror without repeating the edge.
    image = rng.integers(0, 256, size=(1, 6, 7, 3), dtype=np.uint8)
    padded = np.pad(image, ((0, 0), (4, 4), (4, 4), (0, 0)), mode="reflect")
    by_torch = torch.nn.functional.pad(torch.from_numpy(image).permute(0, 3, 1, 2).double(), (4, 4, 4, 4), mode="reflect")
    assert np.array_equal(padded.transpose(0, 3, 1, 2), by_torch.to(torch.uint8).numpy())
    reflect = {"shape": [1, 3, 6, 7], "padding": 4, "image": encode(image), "padded": encode(padded)}

    reference = {"pillow": PIL.__version__, "ranges": RANGES, "sets": sets, "reflect": reflect}
    with open("pil_reference.json", "w") as f:
        json.dump(reference, f)
        f.write("\n")


if __name__ == "__main__":
    main()
