"""Compares KdTools with PyTorch on what the C# parity tests exported.

    /usr/bin/python3 tests/parity/compare.py <export folder>

The folder holds models/<architecture>-<dtype>/ and training/<case>-<dtype>/ subfolders. Prints the parity table,
writes results.json (one row per subfolder) beside them, and exits with 1 when anything disagrees.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kdparity import models, training  # noqa: E402
from kdparity.table import render  # noqa: E402


def main(folder):
    torch.set_num_threads(int(os.environ.get("KDTOOLS_PARITY_THREADS", "1")))
    clock = time.monotonic()
    rows = []
    for kind, compare in [("models", models.compare), ("training", training.compare)]:
        root = os.path.join(folder, kind)
        for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            rows.append(compare(os.path.join(root, name)))
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as stream:
        json.dump(rows, stream, indent=1, allow_nan=True)
    lines = render(rows) + [f"PyTorch {torch.__version__}, {time.monotonic() - clock:.1f} s"]
    with open(os.path.join(folder, "table.txt"), "w", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(row["passed"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
