"""The parity table: one line per architecture or method and dtype, the worst relative error of each compared group."""
import math

MODEL_GROUPS = ["eval logits", "eval features", "train logits", "train features", "BN statistics"]
TRAINING_GROUPS = ["loss terms", "weights", "updates", "buffers"]


def _number(value):
    if value is None:
        return "—"
    return "inf" if math.isinf(value) else f"{value:.1e}"


def _section(rows, title, groups, extra=None):
    header = [title, "dtype"] + ([extra[0]] if extra else []) + groups + ["result"]
    lines = [header]
    for row in rows:
        cells = [row["name"], row["dtype"]] + ([str(row.get(extra[1], ""))] if extra else [])
        cells += [_number(row["errors"].get(group)) for group in groups] + ["pass" if row["passed"] else "FAIL"]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    return [text[0], "  ".join("-" * w for w in widths)] + text[1:]


def _details(rows):
    lines = []
    for row in rows:
        if row["passed"]:
            continue
        worst = ", ".join(f"{group}: {name}" for group, name in row["worst"].items()
                          if name is not None and row["errors"][group] > 0)
        lines.append(f"  {row['kind']} {row['name']} {row['dtype']}: " + "; ".join(row["notes"] + ([f"worst {worst}"] if worst else [])))
    return lines


def render(rows):
    """The table as text lines, then a line per failing row saying what failed."""
    models = [r for r in rows if r["kind"] == "model"]
    runs = [r for r in rows if r["kind"] == "training"]
    lines = []
    if models:
        tolerances = sorted({(r["dtype"], r["tolerance"]) for r in models})
        lines += _section(models, "architecture", MODEL_GROUPS)
        lines.append("tolerance (max relative error): " + ", ".join(f"{d} {t:g}" for d, t in tolerances))
        lines.append("")
    if runs:
        lines += _section(runs, "method", TRAINING_GROUPS, extra=("steps", "steps"))
        lines.append("tolerance: loss terms 1e-4 per step, weights, updates and buffers 1e-3 (relative)")
        lines.append("")
    failing = _details(rows)
    lines.append(f"parity: {sum(r['passed'] for r in rows)} of {len(rows)} passed" + (", failures:" if failing else ""))
    return lines + failing
