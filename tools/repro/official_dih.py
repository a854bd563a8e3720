#!/usr/bin/env python3
"""The official side of KdTools' reproduction table for DIH, from its authors' code
(aryanasadianuoit/Distilling-Knowledge-via-Intermediate-Classifiers, the checkout given by --dih).

Imported from the checkout, run as they are: the CIFAR ResNets (models_repo/tiny_resnets.py: resnet20_cifar and
resnet8_cifar, RepDistiller's layout and state-dict keys, so the KdTools teacher file loads strictly), the heads
(models_repo/Middle_Logit_Generator.py: a linear classifier on a stage's flattened output), the head fine-tuning loop
(train_funcs.train_regular_middle_logits: the teacher frozen in eval mode, every head trained on its stage's detached
output with cross-entropy, one SGD over all heads) and the DIH loop (train_dih.train_via_dih: per branch, the final
classifier and each head, kd_loss = α·T²·KL_batchmean + (1 − α)·CE). This file gives those loops what they read from
elsewhere, stand-ins and no changes to their code:
- the data: their dataload.get_cifar/get_test_loader_cifar (torchvision, CIFAR downloads) are replaced by functions
  returning repro_common's loaders over the table's subset; tqdm and varname (progress bars, a name helper) by no-ops.
- the device: on a device string without 'cuda' both loops silently drop the heads (train_via_dih distils from the
  final classifier alone; train_regular_middle_logits, which also requires torch.cuda.is_available(), trains none).
  The loops get the device 'cpu' as a string that answers 'cuda' in it, and the head stage runs with
  torch.cuda.is_available() answering True and nn.DataParallel the identity (what they are on one device).
- the epoch they keep: both loops evaluate a 'val' loader after every epoch (their get_cifar's 'val' is CIFAR's test
  split) and keep the weights of the epoch with the lowest loss there. KdTools keeps the last epoch; here the 'val'
  phase gets one test image and a split size of infinity, so every epoch's validation loss is 0, each epoch is kept in
  turn and the last one is the result (the test split is scored once, after training, by the table).

Stages, the same on both sides (tools/repro/kdtools_run.ps1):
1. Heads (Add-IntermediateHead in KdTools): one per residual stage of the teacher (3 for resnet20), trained for
   --epochs epochs (DIH trains them as long as its students) with DIH's head recipe, which is KdTools'
   Add-IntermediateHead default: SGD lr 0.1, Nesterov momentum 0.9, weight decay 5e-4, x0.2 at 60/120/180 of 200
   scaled to the run, batch 64, reflect-padded crop and flip (their get_cifar).
2. DIH (Invoke-Distillation -Method DIH): α 0.1, T 5 (their README and final_test.py defaults) on the table's budget:
   SGD lr 0.05, momentum 0.9 (no Nesterov), weight decay 5e-4, x0.1 at 150/180/210 of 240 scaled, batch 64,
   RepDistiller's zero-padded crop and flip (DIH's own: lr 0.1 with Nesterov, x0.2 at 60/120/180 of 200, reflect
   padding).
"""
import importlib.machinery
import math
import os
import sys
import tempfile
import time
import types

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

from repro_common import Loader, cifar_data, failure_text, learning_rate, load_teacher, parse_args, scaled_milestones, top1, write_result

ALPHA, TEMPERATURE = 0.1, 5.0  # DIH's README: --kd_alpha 0.1 --kd_temperature 5; kdtools_run.ps1 passes the same
HEAD_RECIPE = {'lr': 0.1, 'momentum': 0.9, 'nesterov': True, 'weight_decay': 5e-4, 'gamma': 0.2,
               'fractions': (60 / 200, 120 / 200, 180 / 200)}  # final_test.py --training_type fine_tune; KdTools' DIH recipe
ARCHITECTURES = {'resnet20': 'resnet20_cifar', 'resnet8': 'resnet8_cifar', 'resnet14': 'resnet14_cifar',
                 'resnet32': 'resnet32_cifar', 'resnet56': 'resnet56_cifar', 'resnet110': 'resnet110_cifar'}
METHODS = ['DIH']


class CpuNamedCuda(str):
    """'cpu' for torch.device and .to(); True for the loops' `'cuda' in device` tests, which otherwise drop the heads."""

    def __contains__(self, item):
        return item == 'cuda' or str.__contains__(self, item)


def install_stand_ins(loaders):
    """Modules the authors' loops import for what this driver provides: dataload (torchvision data), tqdm, varname.
    loaders: a dict the driver fills before each loop ({'train': Loader, 'val': one-image Loader, 'test': Loader})."""
    def stand_in(name, **attributes):
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)  # torch._dynamo looks modules up by spec
        module.__dict__.update(attributes)
        sys.modules[name] = module

    stand_in('dataload', np=np, torch=torch,  # `from dataload import *` gives train_dih.py np and torch too
             get_cifar=lambda batch_size=None, **_: ({'train': loaders['train'], 'val': loaders['val']},
                                                     {'train': len(loaders['train'].labels), 'val': math.inf}),
             get_test_loader_cifar=lambda batch_size=None, **_: loaders['test'])
    stand_in('tqdm', tqdm=lambda iterable, *a, **k: iterable)
    stand_in('varname', nameof=lambda *a, **k: '')


def milestones_at(fractions, epochs):
    """Fractions of the run as epochs, each once and inside the run (KdTools' LearningRateSchedule.Milestones)."""
    return sorted({m for m in (round(f * epochs) for f in fractions) if 0 < m < epochs})


@torch.no_grad()
def heads_top1(teacher, heads, loader):
    """Each head's test top-1 in % (KdTools' Add-IntermediateHead reports the same as ExitTop1), in one pass."""
    correct = dict.fromkeys(heads, 0)
    for inputs, target in loader:
        outputs = teacher(inputs)
        for index, head in heads.items():
            correct[index] += (head(outputs[index]).argmax(1) == target).sum().item()
    return {f'head{index}': round(100.0 * count / len(loader.labels), 2) for index, count in correct.items()}


def main():
    args = parse_args(__doc__.split('\n')[0], METHODS, {'--dih': 'checkout of aryanasadianuoit/Distilling-Knowledge-via-Intermediate-Classifiers'})
    if not os.path.isdir(args.dih):
        sys.exit(f'official_dih: no DIH checkout at {args.dih}')
    classes = 10
    train_loader, test_loader, train_count = cifar_data(args, with_index=False)
    head_loader = Loader(train_loader.images, train_loader.labels, args.batch_size, train=True, padding='reflect')
    one_image = Loader(test_loader.images[:1], test_loader.labels[:1], 1, train=False)
    loaders = {'val': one_image, 'test': test_loader}
    install_stand_ins(loaders)
    sys.path.insert(0, os.path.abspath(args.dih))
    from models_repo import tiny_resnets
    from models_repo.Middle_Logit_Generator import Middle_Logit_Generator
    import train_funcs
    from train_dih import train_via_dih

    started = time.time()
    device = CpuNamedCuda('cpu')
    teacher = load_teacher(getattr(tiny_resnets, ARCHITECTURES[args.teacher_arch]), args.teacher_arch, args.teacher, classes)
    teacher.eval()
    student = getattr(tiny_resnets, ARCHITECTURES[args.student])(num_classes=classes)
    scratch = tempfile.mkdtemp(prefix='official_dih.')  # the loops torch.save what they keep; nothing is read back

    # 1. The heads, as final_test.py --training_type fine_tune builds and trains them.
    with torch.no_grad():
        outputs = teacher(torch.rand(1, 3, 32, 32))
    heads = {index: Middle_Logit_Generator(outputs[index], num_classes=classes) for index in range(1, len(outputs))}
    head_milestones = milestones_at(HEAD_RECIPE['fractions'], args.epochs)
    head_optimizer = optim.SGD([p for head in heads.values() for p in head.parameters()], lr=HEAD_RECIPE['lr'],
                               weight_decay=HEAD_RECIPE['weight_decay'], momentum=HEAD_RECIPE['momentum'],
                               nesterov=HEAD_RECIPE['nesterov'])
    head_scheduler = optim.lr_scheduler.MultiStepLR(head_optimizer, milestones=head_milestones, gamma=HEAD_RECIPE['gamma'])
    loaders['train'] = head_loader
    is_available, data_parallel = torch.cuda.is_available, nn.DataParallel
    torch.cuda.is_available = lambda: True
    nn.DataParallel = lambda module, device_ids=None, **_: module
    try:
        train_funcs.train_regular_middle_logits(model=teacher, optimizer=head_optimizer, path_to_save=os.path.join(scratch, 'head'),
                                                middle_logits_model_dict=heads, epochs=args.epochs, train_on=device,
                                                scheduler=head_scheduler, batch_size=args.batch_size)
    finally:
        torch.cuda.is_available, nn.DataParallel = is_available, data_parallel
    head_top1 = heads_top1(teacher, heads, test_loader)
    print(f'heads: test top-1 {head_top1}', flush=True)

    # 2. DIH, as final_test.py --training_type dih runs it, on the table's budget.
    lr = learning_rate(args.student)
    milestones = scaled_milestones(args.epochs)
    optimizer = optim.SGD(student.parameters(), lr=lr, weight_decay=5e-4, momentum=0.9)
    scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    loaders['train'] = train_loader
    failed = None
    try:
        train_via_dih(student=student, trained_core_teacher=teacher, traind_intermediate_classifers_dict=heads,
                      optimizer=optimizer, path_to_save=os.path.join(scratch, 'student'), seed=args.seed, dataset='cifar10',
                      epochs=args.epochs, device_to_train_on=device, scheduler=scheduler,
                      input_sample_size=(args.batch_size, 32, 32), kd_alpha=ALPHA, kd_temperature=TEMPERATURE)
    except RuntimeError as error:
        failed = failure_text('?', error)
    settings = (f'DIH authors\' train_funcs.train_regular_middle_logits (heads on stages 1-{len(heads)}, {args.epochs} epochs, '
                f'SGD lr {HEAD_RECIPE["lr"]} Nesterov, x{HEAD_RECIPE["gamma"]} after epochs {head_milestones}, reflect padding; '
                f'heads\' test top-1 {head_top1}) then train_dih.train_via_dih (kd_alpha {ALPHA}, kd_temperature {TEMPERATURE}), '
                f'lr {lr}, decay x0.1 after epochs {milestones}, the last epoch kept')
    student.eval()
    result = None if failed else top1(lambda x: student(x)[0], test_loader)
    write_result(args, started, result, None, train_count, len(test_loader.labels), settings, error=failed)
    if failed:
        sys.exit(f'official_dih: {failed}')


if __name__ == '__main__':
    main()
