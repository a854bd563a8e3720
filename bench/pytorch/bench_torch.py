#!/usr/bin/env python3
"""PyTorch side of the KdTools speed comparison: CIFAR ResNet training-step and teacher-inference times.

Times, per student/teacher pair, the median milliseconds of
  ce_step_ms       student in train mode: forward, cross-entropy, backward, SGD step;
  kd_step_ms       teacher forward in eval mode under no_grad, student forward,
                   loss = 0.1 * CE + 0.9 * T^2 * KL(batchmean) at T = 4, backward, SGD step;
  teacher_eval_ms  teacher forward in eval mode under no_grad;
and prints one JSON line per pair. Random inputs with a fixed seed; needs only PyTorch (1.13 or newer).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 100
STAGE_WIDTHS = (16, 32, 64)

# Trainable parameter counts of the reference CIFAR-100 ResNets (RepDistiller models/resnet.py).
EXPECTED_PARAMETERS = {"resnet8": 83_892, "resnet20": 278_324, "resnet56": 861_620, "resnet110": 1_736_564}

PAIRS = (("resnet8", "resnet56"), ("resnet20", "resnet56"), ("resnet20", "resnet110"))

CE_WEIGHT, KD_WEIGHT, TEMPERATURE = 0.1, 0.9, 4.0


def conv3x3(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        # A 1x1 projection only where the residual's shape changes, as in the reference models.
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + residual)


class CifarResNet(nn.Module):
    """3 stages of (depth - 2) / 6 BasicBlocks at 16/32/64 channels, 32x32 input, global average pool, linear head."""

    def __init__(self, depth, num_classes=NUM_CLASSES):
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f"depth {depth} is not 6n+2")
        blocks_per_stage = (depth - 2) // 6
        self.conv1 = conv3x3(3, STAGE_WIDTHS[0])
        self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
        stages, in_channels = [], STAGE_WIDTHS[0]
        for index, width in enumerate(STAGE_WIDTHS):
            blocks = []
            for block in range(blocks_per_stage):
                stride = 2 if index > 0 and block == 0 else 1
                blocks.append(BasicBlock(in_channels, width, stride))
                in_channels = width
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(in_channels, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def build(name):
    return CifarResNet(int(name.removeprefix("resnet")))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def check_parameter_counts():
    for name, expected in EXPECTED_PARAMETERS.items():
        actual = parameter_count(build(name))
        print(f"# {name}: {actual:,} parameters")
        assert actual == expected, f"{name} has {actual:,} parameters, the reference has {expected:,}"


def make_optimizer(model):
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)


def hinton_kd_loss(student_logits, teacher_logits, labels):
    soft = F.kl_div(F.log_softmax(student_logits / TEMPERATURE, dim=1), F.softmax(teacher_logits / TEMPERATURE, dim=1),
                    reduction="batchmean")
    return CE_WEIGHT * F.cross_entropy(student_logits, labels) + KD_WEIGHT * TEMPERATURE ** 2 * soft


def median_ms(step, warmup, iters):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def bench_pair(student_name, teacher_name, args):
    torch.manual_seed(args.seed)
    student, teacher = build(student_name), build(teacher_name)
    teacher.eval()
    images = torch.randn(args.batch, 3, 32, 32)
    labels = torch.randint(0, NUM_CLASSES, (args.batch,))

    student.train()
    optimizer = make_optimizer(student)

    def ce_step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(student(images), labels).backward()
        optimizer.step()

    def kd_step():
        with torch.no_grad():
            teacher_logits = teacher(images)
        optimizer.zero_grad(set_to_none=True)
        hinton_kd_loss(student(images), teacher_logits, labels).backward()
        optimizer.step()

    def teacher_eval():
        with torch.no_grad():
            teacher(images)

    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "student": student_name,
        "teacher": teacher_name,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "ce_step_ms": round(median_ms(ce_step, args.warmup, args.iters), 2),
        "kd_step_ms": round(median_ms(kd_step, args.warmup, args.iters), 2),
        "teacher_eval_ms": round(median_ms(teacher_eval, args.warmup, args.iters), 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations first (default 5)")
    parser.add_argument("--iters", type=int, default=20, help="timed iterations; the median is reported (default 20)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and random data (default 0)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    check_parameter_counts()
    for student_name, teacher_name in PAIRS:
        print(json.dumps(bench_pair(student_name, teacher_name, args), separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
