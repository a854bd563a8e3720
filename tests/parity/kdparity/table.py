"""The parity table: one line per architecture or method and dtype, the worst relative error of each compared group."""
import math

MODEL_GROUPS = ["eval logits", "eval features", "train logits", "train features", "BN statistics"]
TRAINING_GROUPS = ["loss terms", "weights", "updates", "buffers"]


def _tolerances(rows, groups):
    """The limits, once per distinct set: 'float32, float64: 1e-09' or 'float64: loss terms 0.0001, weights 0.001, …'."""
    by_limits = {}
    for row in rows:
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


def _section(rows, title, groups, extra=None, trailer=None):
    """A column per group; `extra` (header, key) before them and `trailer` (header, key) after the result."""
    header = [title, "dtype"] + ([extra[0]] if extra else []) + groups + ["result"] + ([trailer[0]] if trailer else [])
    lines = [header]
    for row in rows:
        cells = [row["name"], row["dtype"]] + ([str(row.get(extra[1], ""))] if extra else [])
        cells += [_number(row["errors"].get(group)) for group in groups] + ["pass" if row["passed"] else "FAIL"]
        cells += [_number(row.get(trailer[1]))] if trailer else []
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
        lines += _section(runs, "method", TRAINING_GROUPS, extra=("steps", "steps"), trailer=("PyTorch f32", "pytorch"))
        lines.append(_tolerances(runs, TRAINING_GROUPS) + ", loss terms per step")
        lines.append("against PyTorch's float64 replay from the same start; 'PyTorch f32': the weight error of PyTorch's own")
        lines.append("float32 replay against that same reference")
        lines.append("")
    failing = _details(rows)
    lines.append(f"parity: {sum(r['passed'] for r in rows)} of {len(rows)} passed" + (", failures:" if failing else ""))
    return lines + failing
