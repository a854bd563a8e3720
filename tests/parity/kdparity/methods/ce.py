"""CE: the baseline; the engine's label cross-entropy is the whole objective."""
from .base import Method


class CrossEntropy(Method):
    def losses(self, step, terms):
        pass
