"""The parity table: one line per architecture or method and dtype, the worst relative error of each compared group."""
import math

# "pre-ReLU BN": the BatchNorm whose affine KdTools' PreActivationNorm gives (OFD's margins) is the reference's.
MODEL_GROUPS = ["eval logits", "eval features", "train logits", "train features", "BN statistics", "pre-ReLU BN"]
TRAINING_GROUPS = ["loss terms", "weights", "updates", "buffers"]


def _tolerances(rows, groups):
    """The limits, once per distinct set: 'float32, float64: 1e-09' or 'float64: loss terms 0.0001, weights 0.001, …'."""
    by_limits = {}
    for row in rows:
        if not row["limits"]:  # a row whose comparison could not run
            continue
        limits = tuple(row["limits"][g] for g in groups)
        by_limits.setdefault(limits, set()).add(row["dtype"])
    parts = []
    for limits, dtypes in by_limits.items():
        values = f"{limits[0]:g}" if len(set(limits)) == 1 else ", ".join(f"{g} {v:g}" for g, v in zip(groups, limits))
        parts.append(f"{', '.join(sorted(dtypes))}: {values}")
    return "tolerance (max relative error): " + "; ".join(parts)


def _number(value):
    if value is None:
        return "—"
    return "inf" if math.isinf(value) else f"{value:.1e}"


def _section(rows, title, groups, before=(), after=()):
    """A column per group; `before` and `after` are (header, row -> text) columns around them."""
    header = [title, "dtype"] + [h for h, _ in before] + groups + ["result"] + [h for h, _ in after]
    lines = [header]
    for row in rows:
        cells = [row["name"], row["dtype"]] + [cell(row) for _, cell in before]
        cells += [_number(row["errors"].get(group)) for group in groups] + ["pass" if row["passed"] else "FAIL"]
        cells += [cell(row) for _, cell in after]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    return [text[0], "  ".join("-" * w for w in widths)] + text[1:]


def _details(rows):
    lines = []
    for row in rows:
        if row["passed"]:
            continue
        worst = ", ".join(f"{group} {row['errors'][group]:.1e} at {name}" for group, name in row["worst"].items()
                          if name is not None and row["errors"][group] > row["limits"][group])
        lines.append(f"  {row['kind']} {row['name']} {row['dtype']}: " + "; ".join(row["notes"] + ([f"worst {worst}"] if worst else [])))
    return lines


def render(rows):
    """The table as text lines, then a line per failing row saying what failed."""
    models = [r for r in rows if r["kind"] == "model"]
    runs = [r for r in rows if r["kind"] == "training"]
    lines = []
    if models:
        lines += _section(models, "architecture", MODEL_GROUPS)
        lines.append(_tolerances(models, MODEL_GROUPS))
        lines.append("")
    if runs:
        other = ("other reference: weights", lambda r: ", ".join(f"{n} {_number(e['weights'])}" for n, e in r.get("others", {}).items()))
        lines += _section(runs, "method", TRAINING_GROUPS, before=[("steps", lambda r: str(r.get("steps", "")))],
                          after=[("against", lambda r: r.get("reference", "")), other])
        lines.append(_tolerances(runs, TRAINING_GROUPS) + "; loss terms per step, in float32 relative to the step's objective")
        lines.append("against: PyTorch's replay in the run's dtype; a float32 run also against the exact (float64) replay, and")
        lines.append("it passes when it agrees with either (why: tests/parity/kdparity/training.py, compare)")
        lines.append("")
    failing = _details(rows)
    lines.append(f"parity: {sum(r['passed'] for r in rows)} of {len(rows)} passed" + (", failures:" if failing else ""))
    return lines + failing
