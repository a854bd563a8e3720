"""What the official-code drivers of KdTools' reproduction table share (tools/repro/official_train.py for RepDistiller,
tools/repro/official_mdistiller.py for mdistiller and DIST_KD): the command line, the CIFAR-10 subset and its
augmentation, the teacher file, the scaled schedule, top-1 on the test split and the JSON line of the result. Nothing of
the official code is here.
"""
import argparse
import json
import math
import os
import platform
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

LIGHTWEIGHT = ('MobileNetV2', 'ShuffleV1', 'ShuffleV2')
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # the statistics KdTools' CIFAR reader normalises with
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


def read_cifar_batches(folder, names):
    """Images [N, 3, 32, 32] uint8 and labels [N] from files of the official binary layout (label byte + 3072 bytes)."""
    records = [np.fromfile(os.path.join(folder, name), dtype=np.uint8).reshape(-1, 3073) for name in names]
    data = np.concatenate(records)
    return torch.from_numpy(data[:, 1:].reshape(-1, 3, 32, 32).copy()), torch.from_numpy(data[:, 0].astype(np.int64))


def balanced_subset(labels, per_class, classes=10):
    """The first per_class images of each class, in the split's order (what KdTools' Get-KdDataset -TrainCount takes)."""
    picks = [torch.nonzero(labels == c).squeeze(1)[:per_class] for c in range(classes)]
    return torch.sort(torch.cat(picks)).values


class Loader:
    """A shuffling loader with RepDistiller's CIFAR transforms (RandomCrop(32, padding=4) with zero fill,
    RandomHorizontalFlip, ToTensor, Normalize) applied per sample, yielding what train_student.py's loaders yield:
    (input, target) for train_vanilla and validate, (input, target, index) for train_distill, plus contrast_idx for CRD
    (CIFAR100InstanceSample's 'exact' mode: the positive is the sample itself, k negatives drawn from other classes)."""

    def __init__(self, images, labels, batch_size, train, with_index=False, nce_k=None, classes=10, padding='constant'):
        self.images, self.labels, self.batch_size, self.train = images, labels, batch_size, train
        self.padding = padding  # 'constant' (zeros, RepDistiller's) or 'reflect' (DIH's dataload.get_cifar)
        self.with_index, self.nce_k = with_index, nce_k
        self.mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
        if nce_k:
            label_array = labels.numpy()
            self.cls_negative = [np.nonzero(label_array != c)[0] for c in range(classes)]

    def __len__(self):
        return math.ceil(len(self.labels) / self.batch_size)

    def __iter__(self):
        count = len(self.labels)
        order = torch.randperm(count) if self.train else torch.arange(count)
        for start in range(0, count, self.batch_size):
            index = order[start:start + self.batch_size]
            pixels = self.images[index].float()
            if self.train:
                padded = nn.functional.pad(pixels, (4, 4, 4, 4), mode=self.padding)
                crops = []
                for image in padded:
                    top, left = random.randint(0, 8), random.randint(0, 8)
                    crop = image[:, top:top + 32, left:left + 32]
                    crops.append(crop.flip(2) if random.random() < 0.5 else crop)
                pixels = torch.stack(crops)
            inputs = (pixels / 255 - self.mean) / self.std
            target = self.labels[index]
            if not self.with_index:
                yield inputs, target
            elif self.nce_k:
                contrast = np.stack([np.hstack(([i], np.random.choice(self.cls_negative[t], self.nce_k, replace=True)))
                                     for i, t in zip(index.tolist(), target.tolist())])
                yield inputs, target, index, torch.from_numpy(contrast)
            else:
                yield inputs, target, index


def read_safetensors(path):
    """A safetensors file's tensors (the format KdTools' Save-KdModel writes, with PyTorch's key names)."""
    dtypes = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'F16': np.float16}
    with open(path, 'rb') as f:
        (length,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(length))
        body = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        begin, end = entry['data_offsets']
        tensors[name] = torch.from_numpy(np.frombuffer(body[begin:end], dtype=dtypes[entry['dtype']]).reshape(entry['shape']).copy())
    return tensors


def load_teacher(constructor, architecture, path, classes):
    """The teacher's weights in the official code's own model class (RepDistiller's, mdistiller's and DIST_KD's CIFAR
    ResNets share PyTorch key names with KdTools' export); every parameter and buffer must be found."""
    model = constructor(num_classes=classes)
    state = read_safetensors(path)
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith('num_batches_tracked')]
    if missing or result.unexpected_keys:
        sys.exit(f'official driver: {path} does not fit {architecture}: missing {missing}, unexpected {result.unexpected_keys}')
    return model


def machine():
    model = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), platform.machine())
    return f'{platform.node()}, {os.cpu_count()} cores, {model}'


def parse_args(description, methods, checkouts):
    """The drivers' common command line; checkouts: {option: help} of the official checkouts the driver imports."""
    parser = argparse.ArgumentParser(description=description)
    for option, text in checkouts.items():
        parser.add_argument(option, required=True, help=text + ' (imported, never copied)')
    parser.add_argument('--data', required=True, help='folder with CIFAR-10 binary files (cifar-10-batches-bin)')
    parser.add_argument('--per-class', type=int, required=True, help='training images per class (the first of each class)')
    parser.add_argument('--teacher', required=True, help='teacher state dict (safetensors) written by Save-KdModel')
    parser.add_argument('--teacher-arch', required=True)
    parser.add_argument('--student', required=True)
    parser.add_argument('--method', required=True, choices=sorted(methods))
    parser.add_argument('--seed', type=int, required=True)
    parser.add_argument('--epochs', type=int, required=True)
    parser.add_argument('--init-epochs', type=int, default=30, help="the two-stage methods' init stage (AB, FT, FSP)")
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--nce-k', type=int, default=16384)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--commit', default='unknown', help='the KdTools commit the table is measured at')
    parser.add_argument('--out', required=True, help='JSON file for the result')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    return args


def scaled_milestones(epochs):
    """RepDistiller's and mdistiller's lr milestones 150/180/210 of 240 scaled to the run. KdTools keeps each scaled
    milestone once and only inside the run (LearningRateSchedule.Milestones); the official adjust_learning_rate would
    count a milestone given twice twice (at --epochs 3, 5 or 6 two of them round to the same epoch), so the table's budget
    schedule is given to every official side in KdTools' form."""
    return sorted({m for m in (round(f * epochs) for f in (150 / 240, 180 / 240, 210 / 240)) if 0 < m < epochs})


def learning_rate(student):
    """RepDistiller's lr: 0.05, 0.01 for the lightweight students (mdistiller's configs and DIST_KD's README the same)."""
    return 0.01 if student in LIGHTWEIGHT else 0.05


def cifar_data(args, with_index, nce_k=None):
    """(train loader, test loader, number of training images) on the subset, as every driver feeds its loop."""
    train_images, train_labels = read_cifar_batches(args.data, [f'data_batch_{i}.bin' for i in range(1, 6)])
    subset = balanced_subset(train_labels, args.per_class)
    train_images, train_labels = train_images[subset], train_labels[subset]
    test_images, test_labels = read_cifar_batches(args.data, ['test_batch.bin'])
    train_loader = Loader(train_images, train_labels, args.batch_size, train=True, with_index=with_index, nce_k=nce_k)
    return train_loader, Loader(test_images, test_labels, 100, train=False), len(train_labels)


@torch.no_grad()
def top1(logits_of, loader):
    """Top-1 in % of logits_of(inputs) over the loader (the official validate()s compute the same)."""
    correct = total = 0
    for inputs, target in loader:
        correct += (logits_of(inputs).argmax(1) == target).sum().item()
        total += len(target)
    return 100.0 * correct / total


def write_result(args, started, top1_percent, teacher_top1_percent, train_images, test_images, settings, init_epochs=0,
                 error=None):
    """The run's JSON (the fields tools/repro/Write-ReproTable.ps1 reads), written to --out and printed. A run that
    failed has top1 None and its error, so the table shows the official code's failure instead of a missing cell."""
    result = {
        'method': args.method, 'seed': args.seed, 'framework': 'official', 'student': args.student,
        'teacher': args.teacher_arch, 'epochs': args.epochs, 'init_epochs': init_epochs,
        'train_images': train_images, 'test_images': test_images,
        'wall_seconds': round(time.time() - started, 1),
        'top1': None if top1_percent is None else round(top1_percent / 100, 6),
        'teacher_top1': None if teacher_top1_percent is None else round(teacher_top1_percent / 100, 6),
        'settings': f'{settings}, batch {args.batch_size}, torch {torch.__version__}, {args.threads} thread(s)',
        'commit': args.commit, 'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'machine': machine(),
    }
    if error is not None:
        result['error'] = error
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))


def failure_text(epoch, error):
    """One line for a run's JSON: the epoch and the first line of the official code's exception."""
    return f'official code failed in epoch {epoch}: {type(error).__name__}: {str(error).splitlines()[0]}'
