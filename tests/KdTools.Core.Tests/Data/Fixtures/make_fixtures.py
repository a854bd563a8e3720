#!/usr/bin/python3
"""Writes the small segmentation fixtures the Core tests read, and expected.json with what a correct reader returns.

Run with Debian's Python (PIL 9.4, numpy): /usr/bin/python3 make_fixtures.py (from this folder). The files are committed;
rerunning rewrites them. PIL is the encoder of the real-format files (JPEG, palette and grayscale PNG at several bit
depths, with its adaptive row filters) and the oracle of expected.json: every value there is what PIL decodes.
A few PNGs are assembled by hand (zlib + CRC) to cover what PIL does not write: all five row filters in one image, an
interlaced header.
"""
import json
import os
import shutil
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240610)
expected = {}


def voc_palette():
    palette = []
    for index in range(256):
        r = g = b = 0
        bits, shift = index, 7
        while bits:
            r |= ((bits >> 0) & 1) << shift
            g |= ((bits >> 1) & 1) << shift
            b |= ((bits >> 2) & 1) << shift
            shift -= 1
            bits >>= 3
        palette += [r, g, b]
    return palette


def chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF)


def raw_png(width, height, bit_depth, color_type, rows, interlace=0, palette=None):
    """rows: list of (filter type, filtered row bytes)."""
    data = b''.join(bytes([f]) + bytes(r) for f, r in rows)
    out = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, bit_depth, color_type, 0, 0, interlace))
    if palette is not None:
        out += chunk(b'PLTE', bytes(palette))
    return out + chunk(b'IDAT', zlib.compress(data, 9)) + chunk(b'IEND', b'')


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_rows(values):
    """Filters row y of an 8-bit one-channel image with filter type y % 5."""
    rows = []
    h, w = values.shape
    for y in range(h):
        f = y % 5
        out = []
        for x in range(w):
            raw = int(values[y, x])
            left = int(values[y, x - 1]) if x > 0 else 0
            up = int(values[y - 1, x]) if y > 0 else 0
            up_left = int(values[y - 1, x - 1]) if x > 0 and y > 0 else 0
            pred = [0, left, up, (left + up) // 2, paeth(left, up, up_left)][f]
            out.append((raw - pred) % 256)
        rows.append((f, out))
    return rows


def record(name, path):
    values = np.array(Image.open(path))
    expected[name] = {'width': int(values.shape[1]), 'height': int(values.shape[0]), 'values': values.flatten().tolist()}
    return values


def write_label_pngs(folder):
    os.makedirs(folder)
    gray = rng.integers(0, 34, (16, 24)).astype(np.uint8)
    Image.fromarray(gray, mode='L').save(os.path.join(folder, 'gray8_adaptive.png'))
    assert (record('gray8_adaptive.png', os.path.join(folder, 'gray8_adaptive.png')) == gray).all()

    smooth = (np.add.outer(np.arange(10) * 7, np.arange(11) * 13) + rng.integers(0, 9, (10, 11))).astype(np.uint8)
    with open(os.path.join(folder, 'gray8_all_filters.png'), 'wb') as f:
        f.write(raw_png(11, 10, 8, 0, filter_rows(smooth)))
    assert (record('gray8_all_filters.png', os.path.join(folder, 'gray8_all_filters.png')) == smooth).all()

    for bits, width in [(8, 9), (4, 9), (2, 13), (1, 11)]:
        values = rng.integers(0, min(2 ** bits, 21), (7, width)).astype(np.uint8)
        if bits == 8:
            values[3, :] = 255
        image = Image.fromarray(values, mode='P')
        image.putpalette(voc_palette())
        name = f'palette{bits}.png'
        image.save(os.path.join(folder, name), bits=bits)
        assert (record(name, os.path.join(folder, name)) == values).all()

    Image.fromarray(rng.integers(0, 256, (4, 5, 3)).astype(np.uint8), mode='RGB').save(os.path.join(folder, 'rgb.png'))
    Image.fromarray(rng.integers(0, 40000, (4, 5)).astype(np.uint16)).save(os.path.join(folder, 'gray16.png'))
    with open(os.path.join(folder, 'interlaced.png'), 'wb') as f:
        f.write(raw_png(2, 2, 8, 0, [(0, [1, 2]), (0, [3, 4])], interlace=1))


def block_image(width, height, background, box, color):
    """RGB image of one colour with a rectangle (x0, y0, x1, y1) of another, and its mask."""
    image = np.empty((height, width, 3), np.uint8)
    image[:] = background
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = color
    return image


def box_label(width, height, box, cls):
    """Background 0, the box class cls, and a one-pixel 255 ring on the box's border, as VOC marks boundaries."""
    label = np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = box
    label[y0:y1, x0:x1] = 255
    label[y0 + 1:y1 - 1, x0 + 1:x1 - 1] = cls
    return label


def write_voc(root):
    samples = [  # id, split, width, height, background, box, colour, class
        ('2007_000032', 'train', 24, 16, (20, 30, 200), (4, 3, 14, 12), (230, 200, 40), 1),
        ('2007_000039', 'train', 16, 24, (40, 160, 60), (2, 8, 12, 20), (200, 30, 30), 15),
        ('2007_000063', 'val', 20, 20, (90, 90, 90), (5, 5, 15, 15), (250, 250, 250), 20),
    ]
    for sub in ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']:
        os.makedirs(os.path.join(root, sub))
    palette = voc_palette()
    info = {}
    for name, split, w, h, background, box, color, cls in samples:
        Image.fromarray(block_image(w, h, background, box, color)).save(os.path.join(root, 'JPEGImages', name + '.jpg'), quality=95)
        label = Image.fromarray(box_label(w, h, box, cls), mode='P')
        label.putpalette(palette)
        label.save(os.path.join(root, 'SegmentationClass', name + '.png'))
        values = record('voc/' + name, os.path.join(root, 'SegmentationClass', name + '.png'))
        rgb = np.array(Image.open(os.path.join(root, 'JPEGImages', name + '.jpg')).convert('RGB'))
        info[name] = {'split': split, 'box': list(box), 'background': list(background), 'color': list(color), 'class': cls,
                      'jpeg_mean': rgb.reshape(-1, 3).mean(0).tolist()}
        assert (values == box_label(w, h, box, cls)).all()
    # A JPEG outside the segmentation lists, as most of VOC's are: never read.
    Image.fromarray(block_image(8, 8, (0, 0, 0), (0, 0, 1, 1), (0, 0, 0))).save(os.path.join(root, 'JPEGImages', '2007_000027.jpg'))
    for split in ['train', 'val']:
        with open(os.path.join(root, 'ImageSets/Segmentation', split + '.txt'), 'w') as f:
            f.write(''.join(s[0] + '\n' for s in samples if s[1] == split))
    expected['voc'] = info


CITYSCAPES_SAMPLES = [  # split, city, frame
    ('train', 'aachen', '000000_000019'),
    ('train', 'bochum', '000000_000313'),
    ('val', 'frankfurt', '000000_000294'),
]
LABEL_IDS = [0, 1, 4, 7, 8, 11, 17, 21, 23, 24, 26, 33]  # unlabeled, ego vehicle, static, road, sidewalk, ..., bicycle


def write_cityscapes(root):
    info = {}
    for split, city, frame in CITYSCAPES_SAMPLES:
        stem = f'{city}_{frame}'
        image_dir = os.path.join(root, 'leftImg8bit', split, city)
        label_dir = os.path.join(root, 'gtFine', split, city)
        os.makedirs(image_dir, exist_ok=True)
        os.makedirs(label_dir, exist_ok=True)
        rgb = rng.integers(0, 256, (16, 32, 3)).astype(np.uint8)
        Image.fromarray(rgb).save(os.path.join(image_dir, stem + '_leftImg8bit.png'))
        ids = rng.choice(LABEL_IDS, (16, 32)).astype(np.uint8)
        Image.fromarray(ids, mode='L').save(os.path.join(label_dir, stem + '_gtFine_labelIds.png'))
        # The other gtFine files: a colour rendering and 16-bit instance ids, which the reader must not take.
        Image.fromarray(rng.integers(0, 256, (16, 32, 3)).astype(np.uint8)).save(os.path.join(label_dir, stem + '_gtFine_color.png'))
        Image.fromarray(ids.astype(np.uint16) * 1000).save(os.path.join(label_dir, stem + '_gtFine_instanceIds.png'))
        record(f'cityscapes/{stem}/labelIds', os.path.join(label_dir, stem + '_gtFine_labelIds.png'))
        info[stem] = {'split': split, 'rgb': np.array(Image.open(os.path.join(image_dir, stem + '_leftImg8bit.png'))).flatten().tolist()}
    expected['cityscapes'] = info


def main():
    for name in ['labelpng', 'voc', 'cityscapes']:
        shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)
    write_label_pngs(os.path.join(HERE, 'labelpng'))
    write_voc(os.path.join(HERE, 'voc'))
    write_cityscapes(os.path.join(HERE, 'cityscapes'))
    with open(os.path.join(HERE, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))


if __name__ == '__main__':
    main()
