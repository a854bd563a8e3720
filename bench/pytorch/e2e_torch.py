#!/usr/bin/env python3
"""PyTorch side of the KdTools end-to-end comparison (bench/KdTools.Bench/EndToEndBenchmark.cs): the same recipe.

A resnet20 teacher trained with cross-entropy, then a resnet8 student distilled from it with Hinton KD (T = 4,
0.1 CE + 0.9 KD), on random 32x32 uint8 images held in memory as one tensor; per training batch: index, pad by 4 and
random-crop, random horizontal flip, scale and normalise; SGD (momentum 0.9, wd 5e-4); an evaluation of the test set
(batches of 256) and a checkpoint (model and optimizer state; the best model when accuracy improved) every epoch.
Prints one JSON line: the whole run and where its time went, and the peak resident set. Needs only PyTorch.
"""
import argparse
import json
import os
import tempfile
import time

import torch
import torch.nn.functional as F

from bench_torch import build, hinton_kd_loss, make_optimizer

MEAN = torch.tensor([0.5071, 0.4865, 0.4409]).view(1, 3, 1, 1)
STD = torch.tensor([0.2673, 0.2564, 0.2762]).view(1, 3, 1, 1)


def peak_resident_mb():
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux keeps that across exec, so under the
    bench it would report the .NET process that started this one."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    return -1


def resident_breakdown_mb():
    """This process's resident set now, by mapping (/proc/self/smaps), in the categories KdTools' bench uses."""
    groups, category = {}, "other"
    try:
        with open("/proc/self/smaps") as smaps:
            for line in smaps:
                head = line.split(" ", 1)[0]
                if "-" in head and all(c in "0123456789abcdef-" for c in head):
                    fields = line.split(None, 5)
                    name = fields[5].strip() if len(fields) > 5 else ""
                    base = os.path.basename(name)
                    if not name:
                        category = "anonymous"
                    elif name == "[heap]":
                        category = "malloc_heap"
                    elif name.startswith("[stack"):
                        category = "stacks"
                    elif name.startswith("["):
                        category = "kernel_other"
                    elif base.startswith("libtorch_cpu"):
                        category = "libtorch_cpu_so"
                    elif base.startswith(("libtorch", "libc10", "libgomp", "libshm")):
                        category = "libtorch_other_so"
                    elif base.startswith(("python3", "libpython")) or name.endswith(".pyc") or "/python3" in name:
                        category = "python_runtime"
                    elif ".so" in base:
                        category = "other_so"
                    else:
                        category = "other_files"
                elif line.startswith("Rss:"):
                    groups[category] = groups.get(category, 0.0) + int(line.split()[1]) / 1024
    except OSError:
        return {}
    return {f"end_{key}_mb": round(value, 1) for key, value in sorted(groups.items())}


def augment(images, generator):
    """Pad-4 random crop and horizontal flip of a uint8 batch, then scaling and normalisation."""
    n, _, h, w = images.shape
    padded = F.pad(images, (4, 4, 4, 4))
    offsets = torch.randint(0, 9, (n, 2), generator=generator).tolist()
    cropped = torch.stack([padded[i, :, y:y + h, x:x + w] for i, (y, x) in enumerate(offsets)])
    flip = torch.rand(n, generator=generator) < 0.5
    cropped[flip] = cropped[flip].flip(3)
    return (cropped.float() / 255 - MEAN) / STD


def run(model, teacher, data, args, folder, times):
    train_images, train_labels, test_images, test_labels = data
    optimizer = make_optimizer(model)
    generator = torch.Generator().manual_seed(1)
    best = -1.0
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_labels), generator=generator)
        for start in range(0, len(order), args.batch):
            t0 = time.perf_counter()
            index = order[start:start + args.batch]
            images, labels = augment(train_images[index], generator), train_labels[index]
            t1 = time.perf_counter()
            times["augmentation"] += t1 - t0
            teacher_logits = None
            if teacher is not None:
                with torch.no_grad():
                    teacher_logits = teacher(images)
            t2 = time.perf_counter()
            times["teacher_forward"] += t2 - t1
            logits = model(images)
            loss = F.cross_entropy(logits, labels) if teacher is None else hinton_kd_loss(logits, teacher_logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
            times["student_step"] += time.perf_counter() - t2
        t3 = time.perf_counter()
        model.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(test_labels), 256):
                images = (test_images[start:start + 256].float() / 255 - MEAN) / STD
                correct += (model(images).argmax(1) == test_labels[start:start + 256]).sum().item()
        accuracy = correct / len(test_labels)
        t4 = time.perf_counter()
        times["evaluation"] += t4 - t3
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1},
                   os.path.join(folder, "last.pt"))
        if accuracy > best:
            best = accuracy
            torch.save(model.state_dict(), os.path.join(folder, "best.pt"))
        times["checkpointing"] += time.perf_counter() - t4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train", type=int, default=1024)
    parser.add_argument("--test", type=int, default=512)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    data = (torch.randint(0, 256, (args.train, 3, 32, 32), dtype=torch.uint8), torch.randint(0, args.classes, (args.train,)),
            torch.randint(0, 256, (args.test, 3, 32, 32), dtype=torch.uint8), torch.randint(0, args.classes, (args.test,)))
    clock, cpu_clock = time.perf_counter(), time.process_time()
    times = dict.fromkeys(("teacher_forward", "student_step", "augmentation", "evaluation", "checkpointing"), 0.0)
    with tempfile.TemporaryDirectory() as folder:
        teacher = build("resnet20", args.classes)
        run(teacher, None, data, args, folder, times)
        teacher.eval()
        run(build("resnet8", args.classes), teacher, data, args, folder, times)
    total, cpu = time.perf_counter() - clock, time.process_time() - cpu_clock
    record = {"framework": "pytorch", "torch": torch.__version__, "bench": "end_to_end", "teacher": "resnet20", "student": "resnet8",
              "epochs": args.epochs, "train": args.train, "test": args.test, "threads": torch.get_num_threads(),
              "total_s": round(total, 2), "cpu_s": round(cpu, 2)}
    record.update({f"{key}_s": round(value, 2) for key, value in times.items()})
    record["other_s"] = round(total - sum(times.values()), 2)
    record["peak_rss_mb"] = peak_resident_mb()
    record.update(resident_breakdown_mb())
    print(json.dumps(record, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
