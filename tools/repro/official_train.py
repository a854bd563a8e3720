#!/usr/bin/env python3
"""The official side of KdTools' reproduction table (docs/reproduction.md, ./build.sh repro).

Runs one student the way RepDistiller's train_student.py does (HobbitLong/RepDistiller), on a class-balanced subset of
CIFAR-10 read here from the official binary files, with a teacher that KdTools trained and saved as a safetensors state
dict. Everything that defines the method is imported from the official checkout given by --repdistiller (its models,
distiller_zoo, crd, helper.loops.train_distill/train_vanilla/validate, helper.pretrain.init, helper.util.adjust_learning_rate);
nothing of it is copied here. What this file does itself is what train_student.py's main() does around those pieces
(build the criteria and extra modules per --distill, the SGD optimiser, the epoch loop), plus the parts that are
specific to this budget: the data (CIFAR-10 subset, no torchvision), the teacher file, a scaled schedule, and a JSON
line with the result.

Deviations from train_student.py, all forced by the budget or the platform, and the same on the KdTools side:
- CIFAR-10 instead of CIFAR-100, a subset of the training split, --epochs instead of 240, the lr milestones 150/180/210
  of 240 scaled to --epochs and rounded, each kept once (as KdTools' RepDistiller recipe scales them), and --init-epochs
  instead of 30.
- The test split is evaluated once, after the last epoch (RepDistiller reports the last epoch's accuracy too); the
  teacher's test top-1 is measured in CE runs only.
- CPU only: crd.memory.AliasMethod.cuda is replaced by a no-op (ContrastMemory calls it unconditionally).
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
import types

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

# KdTools method name -> (RepDistiller --distill, -r, -a, -b): the values of RepDistiller's scripts/run_cifar_distill.sh
# (KD: -r 0.1 -a 0.9 -b 0; every other method -a 0 with its -b). CE is train_teacher.py's vanilla training.
METHODS = {
    'CE': ('vanilla', 1.0, 0.0, 0.0),
    'KD': ('kd', 0.1, 0.9, 0.0),
    'FitNet': ('hint', 1.0, 0.0, 100.0),
    'AT': ('attention', 1.0, 0.0, 1000.0),
    'SP': ('similarity', 1.0, 0.0, 3000.0),
    'CC': ('correlation', 1.0, 0.0, 0.02),
    'VID': ('vid', 1.0, 0.0, 1.0),
    'RKD': ('rkd', 1.0, 0.0, 1.0),
    'PKT': ('pkt', 1.0, 0.0, 30000.0),
    'AB': ('abound', 1.0, 0.0, 1.0),
    'FT': ('factor', 1.0, 0.0, 200.0),
    'FSP': ('fsp', 1.0, 0.0, 50.0),
    'NST': ('nst', 1.0, 0.0, 50.0),
    'CRD': ('crd', 1.0, 0.0, 0.8),
}
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

    def __init__(self, images, labels, batch_size, train, with_index=False, nce_k=None, classes=10):
        self.images, self.labels, self.batch_size, self.train = images, labels, batch_size, train
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
            pixels = self.images[index]
            if self.train:
                padded = nn.functional.pad(pixels, (4, 4, 4, 4))
                crops = []
                for image in padded:
                    top, left = random.randint(0, 8), random.randint(0, 8)
                    crop = image[:, top:top + 32, left:left + 32]
                    crops.append(crop.flip(2) if random.random() < 0.5 else crop)
                pixels = torch.stack(crops)
            inputs = (pixels.float() / 255 - self.mean) / self.std
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


def load_teacher(model_dict, architecture, path, classes):
    model = model_dict[architecture](num_classes=classes)
    state = read_safetensors(path)
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith('num_batches_tracked')]
    if missing or result.unexpected_keys:
        sys.exit(f'official_train: {path} does not fit {architecture}: missing {missing}, unexpected {result.unexpected_keys}')
    return model


def machine():
    model = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), platform.machine())
    return f'{platform.node()}, {os.cpu_count()} cores, {model}'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repdistiller', required=True, help='checkout of HobbitLong/RepDistiller (imported, never copied)')
    parser.add_argument('--data', required=True, help='folder with CIFAR-10 binary files (cifar-10-batches-bin)')
    parser.add_argument('--per-class', type=int, required=True, help='training images per class (the first of each class)')
    parser.add_argument('--teacher', required=True, help='teacher state dict (safetensors) written by Save-KdModel')
    parser.add_argument('--teacher-arch', required=True)
    parser.add_argument('--student', required=True)
    parser.add_argument('--method', required=True, choices=sorted(METHODS))
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

    sys.path.insert(0, os.path.abspath(args.repdistiller))
    from models import model_dict
    from models.util import ConvReg, LinearEmbed, Connector, Translator, Paraphraser
    from distiller_zoo import DistillKL, HintLoss, Attention, Similarity, Correlation, VIDLoss, RKDLoss
    from distiller_zoo import PKT, ABLoss, FactorTransfer, FSP, NSTLoss
    import crd.memory
    crd.memory.AliasMethod.cuda = lambda self: None  # CPU: ContrastMemory calls .cuda() unconditionally
    from crd.criterion import CRDLoss
    from helper.loops import train_distill, train_vanilla, validate
    from helper.pretrain import init
    from helper.util import adjust_learning_rate

    distill, gamma, alpha, beta = METHODS[args.method]
    # KdTools keeps each scaled milestone once and only inside the run (LearningRateSchedule.Milestones); RepDistiller's
    # adjust_learning_rate would count a milestone given twice twice (at --epochs 3, 5 or 6 two of them round to the
    # same epoch), so the table's budget schedule is given to both sides in KdTools' form.
    milestones = sorted({m for m in (round(f * args.epochs) for f in (150 / 240, 180 / 240, 210 / 240)) if 0 < m < args.epochs})
    opt = types.SimpleNamespace(
        distill=distill, gamma=gamma, alpha=alpha, beta=beta, kd_T=4, hint_layer=2, feat_dim=128, mode='exact',
        nce_k=args.nce_k, nce_t=0.07, nce_m=0.5, print_freq=10 ** 9, model_s=args.student, epochs=args.epochs,
        init_epochs=args.init_epochs, learning_rate=0.01 if args.student in LIGHTWEIGHT else 0.05,
        lr_decay_epochs=milestones, lr_decay_rate=0.1, weight_decay=5e-4, momentum=0.9)
    logger = types.SimpleNamespace(log_value=lambda *a, **k: None)

    train_images, train_labels = read_cifar_batches(args.data, [f'data_batch_{i}.bin' for i in range(1, 6)])
    subset = balanced_subset(train_labels, args.per_class)
    train_images, train_labels = train_images[subset], train_labels[subset]
    test_images, test_labels = read_cifar_batches(args.data, ['test_batch.bin'])
    classes = 10
    train_loader = Loader(train_images, train_labels, args.batch_size, train=True, with_index=distill != 'vanilla',
                          nce_k=args.nce_k if distill == 'crd' else None)
    val_loader = Loader(test_images, test_labels, 100, train=False)

    started = time.time()
    model_t = load_teacher(model_dict, args.teacher_arch, args.teacher, classes)
    model_s = model_dict[args.student](num_classes=classes)
    criterion_cls = nn.CrossEntropyLoss()
    # The teacher's test top-1 in PyTorch (the same weights KdTools measured when it trained them): once per CE run,
    # which does not use the teacher otherwise; a full pass over the test split costs as much as a training epoch.
    teacher_top1 = float(validate(val_loader, model_t, criterion_cls, opt)[0]) if args.method == 'CE' else None

    if distill == 'vanilla':
        optimizer = optim.SGD(model_s.parameters(), lr=opt.learning_rate, momentum=opt.momentum, weight_decay=opt.weight_decay)
        for epoch in range(1, opt.epochs + 1):
            adjust_learning_rate(epoch, opt, optimizer)
            train_vanilla(epoch, train_loader, model_s, criterion_cls, optimizer, opt)
    else:
        data = torch.randn(2, 3, 32, 32)
        model_t.eval()
        model_s.eval()
        feat_t, _ = model_t(data, is_feat=True)
        feat_s, _ = model_s(data, is_feat=True)
        module_list = nn.ModuleList([model_s])
        trainable_list = nn.ModuleList([model_s])
        criterion_div = DistillKL(opt.kd_T)
        if distill == 'kd':
            criterion_kd = DistillKL(opt.kd_T)
        elif distill == 'hint':
            criterion_kd = HintLoss()
            regress_s = ConvReg(feat_s[opt.hint_layer].shape, feat_t[opt.hint_layer].shape)
            module_list.append(regress_s)
            trainable_list.append(regress_s)
        elif distill == 'crd':
            opt.s_dim, opt.t_dim, opt.n_data = feat_s[-1].shape[1], feat_t[-1].shape[1], len(train_labels)
            criterion_kd = CRDLoss(opt)
            for embed in (criterion_kd.embed_s, criterion_kd.embed_t):
                module_list.append(embed)
                trainable_list.append(embed)
        elif distill == 'attention':
            criterion_kd = Attention()
        elif distill == 'nst':
            criterion_kd = NSTLoss()
        elif distill == 'similarity':
            criterion_kd = Similarity()
        elif distill == 'rkd':
            criterion_kd = RKDLoss()
        elif distill == 'pkt':
            criterion_kd = PKT()
        elif distill == 'correlation':
            criterion_kd = Correlation()
            embed_s = LinearEmbed(feat_s[-1].shape[1], opt.feat_dim)
            embed_t = LinearEmbed(feat_t[-1].shape[1], opt.feat_dim)
            for embed in (embed_s, embed_t):
                module_list.append(embed)
                trainable_list.append(embed)
        elif distill == 'vid':
            criterion_kd = nn.ModuleList([VIDLoss(s.shape[1], t.shape[1], t.shape[1]) for s, t in zip(feat_s[1:-1], feat_t[1:-1])])
            trainable_list.append(criterion_kd)
        elif distill == 'abound':
            connector = Connector([f.shape for f in feat_s[1:-1]], [f.shape for f in feat_t[1:-1]])
            init_list = nn.ModuleList([connector, model_s.get_feat_modules()])
            criterion_kd = ABLoss(len(feat_s[1:-1]))
            init(model_s, model_t, init_list, criterion_kd, train_loader, logger, opt)
            module_list.append(connector)
        elif distill == 'factor':
            paraphraser = Paraphraser(feat_t[-2].shape)
            translator = Translator(feat_s[-2].shape, feat_t[-2].shape)
            init(model_s, model_t, nn.ModuleList([paraphraser]), nn.MSELoss(), train_loader, logger, opt)
            criterion_kd = FactorTransfer()
            module_list.append(translator)
            module_list.append(paraphraser)
            trainable_list.append(translator)
        elif distill == 'fsp':
            criterion_kd = FSP([s.shape for s in feat_s[:-1]], [t.shape for t in feat_t[:-1]])
            init(model_s, model_t, nn.ModuleList([model_s.get_feat_modules()]), criterion_kd, train_loader, logger, opt)
        criterion_list = nn.ModuleList([criterion_cls, criterion_div, criterion_kd])
        optimizer = optim.SGD(trainable_list.parameters(), lr=opt.learning_rate, momentum=opt.momentum,
                              weight_decay=opt.weight_decay)
        module_list.append(model_t)
        for epoch in range(1, opt.epochs + 1):
            adjust_learning_rate(epoch, opt, optimizer)
            train_distill(epoch, train_loader, module_list, criterion_list, optimizer, opt)

    top1 = float(validate(val_loader, model_s, criterion_cls, opt)[0])
    result = {
        'method': args.method, 'seed': args.seed, 'framework': 'official', 'student': args.student,
        'teacher': args.teacher_arch, 'epochs': args.epochs,
        'init_epochs': args.init_epochs if distill in ('abound', 'factor', 'fsp') else 0,
        'train_images': len(train_labels), 'test_images': len(test_labels),
        'wall_seconds': round(time.time() - started, 1), 'top1': round(top1 / 100, 6),
        'teacher_top1': None if teacher_top1 is None else round(teacher_top1 / 100, 6),
        'settings': f'RepDistiller train_student.py --distill {distill} -r {gamma} -a {alpha} -b {beta}, lr {opt.learning_rate}, '
                    f'decay x0.1 after epochs {milestones}, batch {args.batch_size}, torch {torch.__version__}, {args.threads} thread(s)',
        'commit': args.commit, 'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'machine': machine(),
    }
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
