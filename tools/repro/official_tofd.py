#!/usr/bin/env python3
"""The official side of KdTools' reproduction table for TOFD (Zhang et al., NeurIPS 2020).

The authors' code (ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation, --tofd) trains ImageNet-style ResNets
(resnet18 and up, with its task-oriented heads built into each model class) from teachers shipped with their heads
already trained; it has no CIFAR resnet20/resnet8. The DIH authors' repository (--dih) ports it to the CIFAR ResNets as
its TOFD baseline: TOFD/resnet_cifar_tofd.py (RepDistiller's backbone and state-dict keys, plus the heads: stage 1
SepConv 16->32, SepConv 32->64, pooling, fc1; stage 2 SepConv 32->64, pooling, fc2) and train_tofd.py (distill.py's
loop). Imported and used here: that CIFAR model class (its heads), and TOFD's own soft cross-entropy
(utils.CrossEntropy). The step is distill.py's (train_tofd.py's the same), written out here because both are scripts
that parse arguments and load torchvision data at import:
    per level i (the final classifier and each head): dist(link_i(f_s,i), f_t,i)·alpha + CE(out_s,i, y)
        + CrossEntropy(out_s,i, out_t,i, T = 1 + t/250·(epoch + 1)),
    plus Σ_i beta·(dist(W_i W_iᵀ, I) + dist(W_iᵀ W_i, I)) over the bias-free linear links W_i,
with alpha 0.05, beta 0.03, t 3 (distill.py's defaults), the links created with the student (distill.py creates them
on its first step and re-creates the optimiser before that step's update, so they train from the first step), and
the teacher left in train mode as both scripts leave it (they never call teacher.eval(): its BatchNorm uses the batch's
statistics and updates its running ones; KdTools runs the TOFD teacher in eval mode: a difference of the code, see
docs/reproduction.md).

Deviations, the same on both sides (tools/repro/kdtools_run.ps1 passes the same values with -MethodOption):
- The teacher's heads: TOFD trains them with the teacher; here, as in KdTools' TOFD (its teacher_heads stage), they are
  trained on the frozen teacher (eval mode) with cross-entropy for --epochs epochs at a constant lr 0.1, SGD momentum
  0.9, weight decay 5e-4, before the student (KdTools: HeadEpochs = --epochs, HeadLearningRate 0.1).
- Levels are paired as TOFD's own models pair them (logits and features deepest first, the final classifier on the
  pooled last stage as the deepest head). DIH's train_tofd.py pairs its model's outputs [fc, fc3, fc2, fc1] with its
  features [stage 3, stage 2, stage 1] by index, so stage 2's feature goes with fc3's logits and fc1 gets no loss; this
  driver uses [fc, fc2, fc1] and does not use fc3.
- The table's budget: batch 64 (TOFD's 128: the unsquared batch-wide torch.dist scales with it), SGD lr 0.05, momentum
  0.9, weight decay 5e-4, x0.1 at 150/180/210 of 240 scaled to the run (TOFD's: lr 0.1, x0.1 at 80/160/240 of 250),
  RepDistiller's augmentation (TOFD's adds Cutout and pads with 128); the ramp keeps 250 as its length, as KdTools'
  TemperatureRampEpochs.
"""
import importlib.machinery
import os
import sys
import time
import types

import torch
import torch.nn as nn
import torch.optim as optim

from repro_common import cifar_data, failure_text, learning_rate, parse_args, read_safetensors, scaled_milestones, top1, write_result

ALPHA, BETA, T = 0.05, 0.03, 3.0  # distill.py's --alpha, --beta, --t defaults
RAMP_EPOCHS = 250  # the ramp's divisor in distill.py (its run length)
HEAD_LR = 0.1
ARCHITECTURES = {'resnet20': 'resnet20_cifar', 'resnet8': 'resnet8_cifar', 'resnet14': 'resnet14_cifar',
                 'resnet32': 'resnet32_cifar', 'resnet56': 'resnet56_cifar', 'resnet110': 'resnet110_cifar'}
HEAD_MODULES = ('auxiliary1', 'auxiliary2', 'fc1', 'fc2', 'fc3')
METHODS = ['TOFD']


def stand_in(name, **attributes):
    """A module the official files import for what they do not use here (torchvision, torchsummary)."""
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)  # torch._dynamo looks modules up by spec
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


def levels(model, inputs):
    """(logits, features), deepest first, paired as TOFD pairs them: [fc, fc2, fc1] with [stage 3, 2, 1]."""
    outputs, features = model(inputs)
    return [outputs[0], outputs[2], outputs[3]], list(features)


def main():
    args = parse_args(__doc__.split('\n')[0], METHODS, {
        '--tofd': 'checkout of ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation',
        '--dih': 'checkout of aryanasadianuoit/Distilling-Knowledge-via-Intermediate-Classifiers (its TOFD CIFAR ResNets)'})
    for path, name in ((args.tofd, 'TOFD'), (args.dih, 'DIH')):
        if not os.path.isdir(path):
            sys.exit(f'official_tofd: no {name} checkout at {path}')
    torchvision = stand_in('torchvision')
    torchvision.transforms = stand_in('torchvision.transforms')
    stand_in('torchsummary', summary=lambda *a, **k: None)
    sys.path.insert(0, os.path.abspath(args.tofd))
    from utils import CrossEntropy
    sys.path.insert(0, os.path.abspath(args.dih))
    from TOFD import resnet_cifar_tofd

    classes = 10
    train_loader, test_loader, train_count = cifar_data(args, with_index=False)
    started = time.time()
    teacher = getattr(resnet_cifar_tofd, ARCHITECTURES[args.teacher_arch])(seed=args.seed, num_classes=classes)
    result = teacher.load_state_dict(read_safetensors(args.teacher), strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(HEAD_MODULES) and not k.endswith('num_batches_tracked')]
    if missing or result.unexpected_keys:
        sys.exit(f'official_tofd: {args.teacher} does not fit {args.teacher_arch}: missing {missing}, unexpected {result.unexpected_keys}')
    student = getattr(resnet_cifar_tofd, ARCHITECTURES[args.student])(seed=args.seed, num_classes=classes)
    torch.manual_seed(args.seed)
    criterion = nn.CrossEntropyLoss()

    # 1. The teacher's heads on the frozen teacher (KdTools' teacher_heads stage).
    heads = [teacher.auxiliary1, teacher.fc1, teacher.auxiliary2, teacher.fc2]
    head_optimizer = optim.SGD([p for m in heads for p in m.parameters()], lr=HEAD_LR, momentum=0.9, weight_decay=5e-4)
    for epoch in range(1, args.epochs + 1):
        teacher.eval()
        for m in heads:
            m.train()
        total = 0.0
        for inputs, target in train_loader:
            with torch.no_grad():
                x = teacher.relu(teacher.bn1(teacher.conv1(inputs)))
                stage1 = teacher.layer1(x)
                stage2 = teacher.layer2(stage1)
            logits = [teacher.fc1(teacher.auxiliary1(stage1).flatten(1)), teacher.fc2(teacher.auxiliary2(stage2).flatten(1))]
            loss = sum(criterion(out, target) for out in logits)
            head_optimizer.zero_grad()
            loss.backward()
            head_optimizer.step()
            total += loss.item() / len(train_loader)
        print(f'teacher heads, epoch {epoch}: mean CE sum {total:.4f}', flush=True)
    teacher.eval()
    head_top1 = {name: round(top1(lambda x, i=i: levels(teacher, x)[0][i], test_loader), 2) for i, name in ((2, 'head1'), (1, 'head2'))}
    print(f'teacher heads: test top-1 {head_top1}', flush=True)

    # 2. The student: distill.py's step, the teacher in train mode as there.
    teacher.train()
    with torch.no_grad():
        _, teacher_features = levels(teacher, torch.zeros(2, 3, 32, 32))
        _, student_features = levels(student, torch.zeros(2, 3, 32, 32))
    student.link = nn.ModuleList([nn.Linear(student_features[0].size(1), teacher_features[0].size(1), bias=False)
                                  for _ in range(len(teacher_features))])
    lr = learning_rate(args.student)
    milestones = scaled_milestones(args.epochs)
    optimizer = optim.SGD(student.parameters(), lr=lr, weight_decay=5e-4, momentum=0.9)
    failed = None
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:
            group['lr'] = lr * 0.1 ** sum(epoch + 1 > m for m in milestones)
        student.train()
        total = 0.0
        try:
            for inputs, labels in train_loader:
                outputs, student_feature = levels(student, inputs)
                with torch.no_grad():
                    teacher_logits, teacher_feature = levels(teacher, inputs)
                loss = torch.zeros(1)
                for index in range(len(student_feature)):
                    student_feature[index] = student.link[index](student_feature[index])
                    loss += torch.dist(student_feature[index], teacher_feature[index], p=2) * ALPHA
                    loss += criterion(outputs[index], labels)
                    loss += CrossEntropy(outputs[index], teacher_logits[index], 1 + (T / RAMP_EPOCHS) * float(1 + epoch))
                for index in range(len(student_feature)):
                    weight = student.link[index].weight
                    loss += torch.dist(weight @ weight.t(), torch.eye(weight.size(0)), p=2) * BETA
                    loss += torch.dist(weight.t() @ weight, torch.eye(weight.size(1)), p=2) * BETA
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() / len(train_loader)
        except RuntimeError as error:
            failed = failure_text(epoch + 1, error)
            break
        print(f'epoch {epoch + 1}: mean loss {total:.4f}', flush=True)

    settings = (f'TOFD distill.py step (alpha {ALPHA}, beta {BETA}, t {T}, ramp /{RAMP_EPOCHS}; utils.CrossEntropy) on the DIH '
                f'repository\'s TOFD CIFAR ResNets (TOFD/resnet_cifar_tofd.py, levels [fc, fc2, fc1]), teacher in train mode; '
                f'teacher heads first on the frozen teacher ({args.epochs} epochs, lr {HEAD_LR}; test top-1 {head_top1}), '
                f'lr {lr}, decay x0.1 after epochs {milestones}')
    student.eval()
    score = None if failed else top1(lambda x: levels(student, x)[0][0], test_loader)
    write_result(args, started, score, None, train_count, len(test_loader.labels), settings, error=failed)
    if failed:
        sys.exit(f'official_tofd: {failed}')


if __name__ == '__main__':
    main()
