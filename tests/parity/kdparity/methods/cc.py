"""Correlation congruence (Peng et al. 2019): batch correlation matrices of embedded penultimate features.

Kernel 'gaussian': the paper's RBF kernel exp(−γ‖a − b‖²) of L2-normalised embeddings by its order-P Taylor series,
e^(−2γ)·Σ_p (2γ·a·b)^p / p!, then the mean squared difference of the matrices; the teacher's side is a constant.
Kernel 'repdistiller': RepDistiller's CC.py, the mean over consecutive sample pairs of Σ_d |s − t|_i,d · |s − t|_(i+1),d,
where, as in RepDistiller's training loop, the teacher's embedding head learns through the loss too.
"""
import math

import torch.nn as nn
import torch.nn.functional as F

from .base import FeatureMethod
from .heads import EmbeddingHead


def gaussian_correlation(embedding, gamma, order):
    unit = F.normalize(embedding.flatten(1), dim=1)
    cosine = unit @ unit.t()
    return math.exp(-2 * gamma) * sum((2 * gamma) ** p / math.factorial(p) * cosine ** p for p in range(order + 1))


class CorrelationCongruence(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        size = options["EmbeddingSize"]
        self.extras = nn.ModuleDict({
            "embed_s": EmbeddingHead(setup.student["embedding"][1], size, normalize=False),
            "embed_t": EmbeddingHead(setup.teacher["embedding"][1], size, normalize=False),
        })

    def method_losses(self, step, terms):
        s = self.extras["embed_s"](step.student.features["embedding"])
        t = self.extras["embed_t"](step.teacher.features["embedding"])
        if self.options["Kernel"] == "gaussian":
            gamma, order = self.options["Gamma"], self.options["TaylorOrder"]
            loss = (gaussian_correlation(s, gamma, order) - gaussian_correlation(t.detach(), gamma, order)).pow(2).mean()
        else:
            delta = (s - t).abs()
            loss = (delta[:-1] * delta[1:]).sum(1).mean()
        terms["cc"] = self.options["Beta"] * loss
