"""Checks KdTools' ONNX exports outside .NET: the ONNX checker accepts each file, Python's ONNX Runtime reproduces
TorchSharp's logits.

    python3 tests/parity/onnx_check.py <export folder>

Run in Debian 13's python3-onnx and python3-onnxruntime (./build.sh onnx-check runs it in /opt/kdtools-trixie). The
folder holds manifest.json, written by the bench's onnx-check mode: one entry per architecture with its .onnx file, an
input batch and TorchSharp's eval logits for it (raw little-endian float32). Prints one row per file and exits with 1
when a file fails the checker or its logits differ by more than 1e-4 (relative to the logits' magnitude above 1).
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-4


def load(folder, name, shape):
    return np.fromfile(os.path.join(folder, name), dtype="<f4").reshape(shape)


def check(folder, entry):
    path = os.path.join(folder, entry["file"])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    metadata = {p.key: p.value for p in model.metadata_props}
    if metadata.get("architecture") != entry["network"]:
        raise ValueError(f"metadata names {metadata.get('architecture')!r}")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inputs = load(folder, entry["input"], entry["input_shape"])
    expected = load(folder, entry["logits"], entry["logits_shape"])
    (actual,) = session.run(["logits"], {"input": inputs})
    if actual.shape != expected.shape:
        raise ValueError(f"logits {actual.shape}, TorchSharp {expected.shape}")
    scale = max(1.0, float(np.abs(expected).max()))
    difference = float(np.abs(actual - expected).max())
    return opset, difference, scale


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "manifest.json")) as f:
        entries = json.load(f)
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}; tolerance {TOLERANCE:g} x max(1, |logits|)")
    print(f"{'architecture':<24} {'opset':>5} {'checker':>8} {'max |diff|':>11} {'scale':>9}  result")
    failures = 0
    for entry in entries:
        try:
            opset, difference, scale = check(folder, entry)
            ok = difference <= TOLERANCE * scale
            print(f"{entry['architecture']:<24} {opset:>5} {'ok':>8} {difference:>11.3g} {scale:>9.3g}  {'ok' if ok else 'DIFFERS'}")
        except Exception as error:  # every failure is a row, then the exit code
            ok = False
            print(f"{entry['architecture']:<24} {'':>5} {'':>8} {'':>11} {'':>9}  FAILED: {str(error).splitlines()[0]}")
        failures += not ok
    print(f"{len(entries) - failures} of {len(entries)} files pass")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
