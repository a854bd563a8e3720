"""Model parity: a network KdTools saved (Save-KdModel's format) loads into the PyTorch definition with a plain
load_state_dict(strict=True), and both give the same logits, features and BatchNorm statistics on the same input."""
import os

import torch

from .architectures import ARCHITECTURES
from .errors import TOLERANCES, Worst, relative
from .safetensors_format import load_file, save_file
from .table import MODEL_GROUPS

DTYPES = {"float64": torch.float64, "float32": torch.float32}
PREACT_NORMS = MODEL_GROUPS[-1]


def load_kdtools_model(model, path):
    """What a PyTorch user does with a KdTools model file: it is the network's state dict, loaded as is."""
    tensors, metadata = load_file(path)
    model.load_state_dict(tensors, strict=True)
    return metadata


def _compare_outputs(expected, prefix, logits, features, errors, worst):
    errors[f"{prefix} logits"] = relative(logits, expected[f"{prefix}/logits"])
    group = Worst()
    names = {k[len(prefix) + 1:] for k in expected if k.startswith(prefix + "/") and k != f"{prefix}/logits"}
    for name in sorted(names | set(features)):
        group.add(name, relative(features[name], expected[f"{prefix}/{name}"]) if name in features and name in names else float("inf"))
    errors[f"{prefix} features"], worst[f"{prefix} features"] = group.error, group.name


def _compare_preact_norms(model, expected, row):
    """KdTools' PreActivationNorm(stage) (OFD's margins) is the BatchNorm the definition's preact_norm(stage) names:
    the same affine parameters, or none on both sides. The networks' BatchNorms are randomised, so another BN differs."""
    group = Worst()
    stages = sorted(int(k[len("eval/stage"):]) for k in expected if k.startswith("eval/stage") and k[len("eval/stage"):].isdigit())
    for stage in stages:
        norm = model.preact_norm(stage)
        names = [f"norm/stage{stage}/weight", f"norm/stage{stage}/bias"]
        if norm is None or names[0] not in expected:
            group.add(f"stage{stage}", 0.0 if norm is None and names[0] not in expected else float("inf"))
            continue
        group.add(f"stage{stage}", max(relative(norm.weight, expected[names[0]]), relative(norm.bias, expected[names[1]])))
    row["errors"][PREACT_NORMS], row["worst"][PREACT_NORMS] = group.error, group.name


def compare(folder):
    """One table row; a definition that fails to build or run gives a failing row that says why."""
    try:
        return _compare(folder)
    except Exception as error:  # noqa: BLE001 - any failure of the definition is this row's result
        _, metadata = load_file(os.path.join(folder, "expected.safetensors"))
        return {"kind": "model", "name": metadata["architecture"], "dtype": metadata["dtype"], "errors": {}, "worst": {},
                "limits": {}, "passed": False, "notes": [f"the PyTorch side failed: {type(error).__name__}: {error}"]}


def _compare(folder):
    expected, metadata = load_file(os.path.join(folder, "expected.safetensors"))
    name, dtype = metadata["architecture"], metadata["dtype"]
    limit = TOLERANCES[dtype]["model"]
    row = {"kind": "model", "name": name, "dtype": dtype, "errors": {}, "worst": {}, "notes": [],
           "limits": {group: limit for group in MODEL_GROUPS}}
    if name not in ARCHITECTURES:
        row["notes"].append(f"no PyTorch definition: add one to tests/parity/kdparity/architectures (ARCHITECTURES['{name}'])")
        row["passed"] = False
        return row
    model = ARCHITECTURES[name](int(metadata["classes"])).to(DTYPES[dtype])
    try:
        load_kdtools_model(model, os.path.join(folder, "model.safetensors"))
    except RuntimeError as error:
        row["notes"].append(f"load_state_dict(strict=True) failed: {error}")
        row["passed"] = False
        return row
    x = expected["input"]
    with torch.no_grad():
        model.eval()
        _compare_outputs(expected, "eval", *model(x), row["errors"], row["worst"])
        model.train()
        _compare_outputs(expected, "train", *model(x), row["errors"], row["worst"])
    statistics = Worst()
    for key, value in model.named_buffers():
        statistics.add(key, relative(value, expected[f"state/{key}"]) if f"state/{key}" in expected else float("inf"))
    row["errors"]["BN statistics"], row["worst"]["BN statistics"] = statistics.error, statistics.name
    _compare_preact_norms(model, expected, row)
    # The other direction: KdTools loads this PyTorch-written state dict strictly (checked by the C# side).
    save_file(model.state_dict(), os.path.join(folder, "pytorch_state.safetensors"))
    row["passed"] = all(row["errors"][group] <= limit for group, limit in row["limits"].items())
    return row
