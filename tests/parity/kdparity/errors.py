"""How the parity layer measures agreement, and what it accepts."""
import math

# Models: logits, features and BN statistics; training: loss terms per step, final weights, updates.
# term_scale: a loss term's error is divided by max(|term|, term_scale·Σ|the step's terms|). In float64 each term is
# measured against itself. In float32 a term is measured against the step's objective: a divergence between nearly
# equal distributions (DKD's TCKD and NCKD, about 1e-3 as differences of parts near 1) carries the float32 rounding of
# its parts, 1e-4 of itself, while the float64 run checks its formula to 1e-13.
TOLERANCES = {
    "float64": {"model": 1e-9, "terms": 1e-4, "term_scale": 0.0, "weights": 1e-3, "updates": 1e-3},
    "float32": {"model": 1e-4, "terms": 1e-4, "term_scale": 1.0, "weights": 1e-3, "updates": 1e-3},
}


def relative(actual, expected):
    """max |actual − expected| / max |expected| (the absolute error when expected is all zero); inf on a shape mismatch."""
    if tuple(actual.shape) != tuple(expected.shape):
        return math.inf
    actual, expected = actual.detach().double(), expected.detach().double()
    if actual.numel() == 0:
        return 0.0
    difference = (actual - expected).abs().max().item()
    if not math.isfinite(difference):
        return math.inf
    scale = expected.abs().max().item()
    return difference / scale if scale > 0 else difference


class Worst:
    """The largest error of a group of compared quantities, and which one it was."""

    def __init__(self):
        self.error, self.name = 0.0, None

    def add(self, name, error):
        if self.name is None or error > self.error:
            self.error, self.name = error, name
