"""Probabilistic knowledge transfer (Passalis & Tefas 2018): KL between cosine-similarity distributions."""
from .base import FeatureMethod

EPS = 1e-7


def conditional_probabilities(x):
    unit = x / (x.pow(2).sum(1, keepdim=True).sqrt() + EPS)
    similarity = (unit @ unit.t() + 1) / 2
    return similarity / similarity.sum(1, keepdim=True)


class Pkt(FeatureMethod):
    def method_losses(self, step, terms):
        p_s = conditional_probabilities(step.student.features["embedding"].flatten(1))
        p_t = conditional_probabilities(step.teacher.features["embedding"].flatten(1).detach())
        terms["pkt"] = self.options["Beta"] * (p_t * ((p_t + EPS) / (p_s + EPS)).log()).mean()
