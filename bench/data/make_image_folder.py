#!/usr/bin/env python3
"""Writes a synthetic image folder shaped like Tiny-ImageNet for the streaming benchmark: <out>/train/<class>/*.JPEG and
<out>/val/<class>/*.JPEG, 64x64 RGB JPEG (quality 90), smooth colour fields with noise so files compress and decode like
photographs rather than like pure noise. Seeded; needs numpy and PIL (Debian's python3-numpy, python3-pil).
"""
import argparse
import os

import numpy as np
from PIL import Image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--val-per-class", type=int, default=50)
    parser.add_argument("--side", type=int, default=64)
    args = parser.parse_args()
    rng = np.random.default_rng(13)
    for split, per_class in (("train", args.train_per_class), ("val", args.val_per_class)):
        for c in range(args.classes):
            folder = os.path.join(args.out, split, f"n{c:08d}")
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
                field = np.asarray(Image.fromarray(coarse).resize((args.side, args.side), Image.BICUBIC), dtype=np.int16)
                noisy = np.clip(field + rng.integers(-12, 13, field.shape), 0, 255).astype(np.uint8)
                Image.fromarray(noisy).save(os.path.join(folder, f"{c}_{i}.JPEG"), quality=90)


if __name__ == "__main__":
    main()
