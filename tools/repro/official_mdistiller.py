#!/usr/bin/env python3
"""The official side of KdTools' reproduction table for the methods RepDistiller lacks: mdistiller's DKD, ReviewKD and
OFD (megvii-research/mdistiller), and DIST from its authors' code (hunto/DIST_KD); also mdistiller's KDSVD
(--method KDSVD-mdistiller), which runs where RepDistiller's stops.

mdistiller methods: the distiller class (mdistiller.distillers.<METHOD>) and the CIFAR models
(mdistiller.models.cifar) are imported from the checkout given by --mdistiller, built with the values of mdistiller's
CIFAR config for the method, and trained by the step of mdistiller's BaseTrainer.train_iter:
    preds, losses = distiller(image=..., target=..., epoch=...); sum(l.mean() for l in losses).backward(); SGD step
with distiller.train() before each epoch (which puts the teacher in eval mode, except OFD's own train(), which leaves
it in train mode as mdistiller does) and SGD over distiller.get_learnable_parameters() (the student plus the method's
modules), as its init_optimizer. The trainer itself (mdistiller.engine) is not imported: it needs CUDA, yacs, tqdm and
tensorboardX, and these five lines are all of it that a step does.

DIST: the authors' loss wrapper lib.models.losses.kd_loss.KDLoss (kd 'dist_t4', ori_loss_weight 1, kd_loss_weight 2:
configs/strategies/distill/dist_cifar.yaml) and their CIFAR models (lib.models.cifar) from the DIST_KD checkout given by
--dist-kd (its `classification` folder is the hunto/image_classification_sota submodule), trained by the step of its
tools/train.py train_epoch: loss = loss_fn(input, target); zero_grad; backward; step, with the student in train mode
and the teacher in eval mode (KDLoss sets it).

Shared with tools/repro/official_train.py (repro_common.py): the CIFAR-10 subset with RepDistiller's augmentation, the
KdTools teacher file, batch 64, SGD momentum 0.9, weight decay 5e-4, lr 0.05 (0.01 for the lightweight students) with
x0.1 at 150/180/210 of 240 scaled to --epochs. Deviations from the official runs, the same on the KdTools side:
- CIFAR-10 and a subset instead of CIFAR-100, --epochs instead of 240; the warm-ups of DKD and ReviewKD (20 of 240
  epochs) scaled to the run the way KdTools' EpochWarmup scales them (20 * epochs / 240, mdistiller's per-epoch factor
  min(epoch / warm-up, 1) with 1-based epochs).
- DIST: its own CIFAR schedule (timm-style step scheduler with a 120-epoch constant warm-up at lr 0.05) is replaced by
  the table's schedule, as every row uses.
- ReviewKD: mdistiller's one CIFAR config is written for resnet32x4 -> resnet8x4 (its channels and shapes); here they
  are those of the student and teacher of the cell, read from the models' features as that config lists them
  (stages 1-3 and the pooled embedding; spatial sizes 1 and the stages' from deep to shallow).
- The test split is evaluated once, after the last epoch.
"""
import os
import sys
import time
import types

import torch
import torch.nn as nn
import torch.optim as optim

from repro_common import cifar_data, failure_text, learning_rate, load_teacher, parse_args, scaled_milestones, top1, write_result

# The mdistiller CIFAR configs the loss weights come from (mdistiller/engine/cfg.py's defaults, overridden by the yaml).
# tools/repro/kdtools_run.ps1 passes the same values to KdTools with -MethodOption.
REFERENCE_EPOCHS = 240  # mdistiller's SOLVER.EPOCHS on CIFAR-100, the scale of its warm-up epochs
MDISTILLER = {
    # configs/cifar100/dkd/res56_res20.yaml: the config of the ResNet pair of equal widths, like resnet20 -> resnet8.
    'DKD': ('DKD', 'configs/cifar100/dkd/res56_res20.yaml',
            {'DKD': {'CE_WEIGHT': 1.0, 'ALPHA': 1.0, 'BETA': 2.0, 'T': 4.0, 'WARMUP': 20}}),
    # configs/cifar100/reviewkd.yaml: REVIEWKD_WEIGHT 5 over cfg.py's defaults.
    'ReviewKD': ('REVIEWKD', 'configs/cifar100/reviewkd.yaml',
                 {'REVIEWKD': {'CE_WEIGHT': 1.0, 'REVIEWKD_WEIGHT': 5.0, 'WARMUP_EPOCHS': 20, 'MAX_MID_CHANNEL': 512,
                               'STU_PREACT': False}}),
    # configs/cifar100/kdsvd.yaml: cfg.py's KDSVD defaults. The table's KDSVD row runs RepDistiller's port, whose plain
    # torch.svd gradient stops that run on this data (docs/methods.md, KDSVD); this row is mdistiller's port, which
    # decomposes (C*H) x W matrices (KdTools' Layout Width) and runs.
    'KDSVD-mdistiller': ('KDSVD', 'configs/cifar100/kdsvd.yaml',
                         {'KDSVD': {'K': 1, 'LOSS': {'CE_WEIGHT': 1.0, 'FEAT_WEIGHT': 1.0}}}),
    # configs/cifar100/ofd.yaml: cfg.py's OFD defaults.
    'OFD': ('OFD', 'configs/cifar100/ofd.yaml',
            {'OFD': {'LOSS': {'CE_WEIGHT': 1.0, 'FEAT_WEIGHT': 0.001}, 'CONNECTOR': {'KERNEL_SIZE': 1}}}),
}
# DIST_KD classification/configs/strategies/distill/dist_cifar.yaml: kd dist_t4 (beta 1, gamma 1, tau 4).
DIST = {'kd': 'dist_t4', 'ori_loss_weight': 1.0, 'kd_loss_weight': 2.0, 'config': 'configs/strategies/distill/dist_cifar.yaml'}
METHODS = sorted(list(MDISTILLER) + ['DIST'])


def namespace(tree):
    """mdistiller's cfg (a yacs CfgNode read by attribute) as nested namespaces."""
    return types.SimpleNamespace(**{k: namespace(v) if isinstance(v, dict) else v for k, v in tree.items()})


def need(path, repository):
    if not os.path.isdir(path):
        sys.exit(f'official_mdistiller: no {repository} checkout at {path}')
    sys.path.insert(0, os.path.abspath(path))


def mdistiller_run(args, train_loader, classes):
    """(logits function for the test split or None, settings text, failure text or None) after training, mdistiller's
    way."""
    need(args.mdistiller, 'megvii-research/mdistiller')
    from mdistiller.distillers import distiller_dict
    from mdistiller.models.cifar import cifar_model_dict

    distiller_type, config, tree = MDISTILLER[args.method]
    tree = {key: dict(value) for key, value in tree.items()}
    model_t = load_teacher(cifar_model_dict[args.teacher_arch][0], args.teacher_arch, args.teacher, classes)
    model_s = cifar_model_dict[args.student][0](num_classes=classes)
    warmup = {'DKD': ('DKD', 'WARMUP'), 'ReviewKD': ('REVIEWKD', 'WARMUP_EPOCHS')}.get(args.method)
    if warmup:
        section, key = warmup
        tree[section][key] = tree[section][key] * args.epochs / REFERENCE_EPOCHS
    if args.method == 'ReviewKD':
        # The channels and spatial sizes the config lists for its pair, read from this pair's features.
        model_s.eval()
        model_t.eval()
        with torch.no_grad():
            _, feat_s = model_s(torch.randn(2, 3, 32, 32))
            _, feat_t = model_t(torch.randn(2, 3, 32, 32))
        tree['REVIEWKD']['IN_CHANNELS'] = [f.shape[1] for f in feat_s['feats'][1:]] + [feat_s['pooled_feat'].shape[1]]
        tree['REVIEWKD']['OUT_CHANNELS'] = [f.shape[1] for f in feat_t['preact_feats'][1:]] + [feat_t['pooled_feat'].shape[1]]
        tree['REVIEWKD']['SHAPES'] = [1] + [f.shape[-1] for f in reversed(feat_s['feats'][1:])]
        tree['REVIEWKD']['OUT_SHAPES'] = [1] + [f.shape[-1] for f in reversed(feat_t['preact_feats'][1:])]
    distiller = distiller_dict[distiller_type](model_s, model_t, namespace(tree))

    lr = learning_rate(args.student)
    milestones = scaled_milestones(args.epochs)
    optimizer = optim.SGD(distiller.get_learnable_parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    settings = (f'mdistiller distillers.{distiller_type} ({config}: ' + '; '.join(f'{k} {v}' for k, v in tree.items())
                + f'), lr {lr}, decay x0.1 after epochs {milestones}')
    for epoch in range(1, args.epochs + 1):
        set_lr(optimizer, lr, milestones, epoch)
        distiller.train()
        totals = {}
        try:
            for image, target, _ in train_loader:
                optimizer.zero_grad()
                _, losses = distiller(image=image.float(), target=target, epoch=epoch)
                sum(loss.mean() for loss in losses.values()).backward()
                optimizer.step()
                for name, loss in losses.items():
                    totals[name] = totals.get(name, 0.0) + loss.mean().item() / len(train_loader)
        except RuntimeError as error:
            return None, settings, failure_text(epoch, error)
        print(f'epoch {epoch}: mean ' + ', '.join(f'{k} {v:.4f}' for k, v in totals.items()), flush=True)
    distiller.eval()
    return (lambda image: distiller(image=image)), settings, None


def dist_run(args, train_loader, classes):
    """(logits function for the test split or None, settings text, failure text or None) after training DIST with the
    authors' KDLoss."""
    classification = os.path.join(args.dist_kd, 'classification')
    need(classification, 'hunto/DIST_KD (with its classification submodule, hunto/image_classification_sota)')
    # lib/models/__init__.py imports the ImageNet model zoo (timm, NAS operations); the CIFAR models and the losses
    # need none of it, so the two packages above them are entered without running their __init__.
    for package in ('lib', 'lib.models'):
        module = types.ModuleType(package)
        module.__path__ = [os.path.join(classification, *package.split('.'))]
        sys.modules[package] = module
    from lib.models.cifar import model_dict
    from lib.models.losses.kd_loss import KDLoss

    model_t = load_teacher(model_dict[args.teacher_arch], args.teacher_arch, args.teacher, classes)
    model_s = model_dict[args.student](num_classes=classes)
    loss_fn = KDLoss(model_s, model_t, nn.CrossEntropyLoss(), kd_method=DIST['kd'],
                     ori_loss_weight=DIST['ori_loss_weight'], kd_loss_weight=DIST['kd_loss_weight'])
    lr = learning_rate(args.student)
    milestones = scaled_milestones(args.epochs)
    optimizer = optim.SGD(model_s.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    settings = (f"DIST_KD KDLoss kd {DIST['kd']}, ori_loss_weight {DIST['ori_loss_weight']}, kd_loss_weight "
                f"{DIST['kd_loss_weight']} ({DIST['config']}), lr {lr}, decay x0.1 after epochs {milestones}")
    for epoch in range(1, args.epochs + 1):
        set_lr(optimizer, lr, milestones, epoch)
        model_s.train()
        total = 0.0
        try:
            for image, target, _ in train_loader:
                loss = loss_fn(image, target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() / len(train_loader)
        except RuntimeError as error:
            return None, settings, failure_text(epoch, error)
        print(f'epoch {epoch}: mean loss {total:.4f}', flush=True)
    model_s.eval()
    return model_s, settings, None


def set_lr(optimizer, base, milestones, epoch):
    """mdistiller's adjust_learning_rate (engine/utils.py; RepDistiller's the same): base * 0.1^(milestones passed)."""
    for group in optimizer.param_groups:
        group['lr'] = base * 0.1 ** sum(epoch > m for m in milestones)


def main():
    args = parse_args(__doc__.split('\n')[0], METHODS, {
        '--mdistiller': 'checkout of megvii-research/mdistiller', '--dist-kd': 'checkout of hunto/DIST_KD'})
    classes = 10
    train_loader, val_loader, train_count = cifar_data(args, with_index=True)
    started = time.time()
    logits_of, settings, failed = (dist_run if args.method == 'DIST' else mdistiller_run)(args, train_loader, classes)
    write_result(args, started, None if failed else top1(logits_of, val_loader), None, train_count, len(val_loader.labels),
                 settings, error=failed)
    if failed:
        sys.exit(f'official_mdistiller: {failed}')


if __name__ == '__main__':
    main()
