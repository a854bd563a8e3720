"""Neuron selectivity transfer (Huang & Wang 2017): squared MMD of channel activation patterns, kernel (a·b)²."""
import torch.nn.functional as F

from .base import FeatureMethod, match_heights, paired_stages


def mmd(student, teacher):
    student, teacher = match_heights(student, teacher)
    s = F.normalize(student.flatten(2), dim=2)
    t = F.normalize(teacher.flatten(2), dim=2)

    def kernel(a, b):
        return (a @ b.transpose(1, 2)).pow(2).mean()

    return kernel(t, t) + kernel(s, s) - 2 * kernel(s, t)


class NeuronSelectivity(FeatureMethod):
    def method_losses(self, step, terms):
        losses = [mmd(step.student.features[f"stage{s}"], step.teacher.features[f"stage{s}"].detach()) for s in paired_stages(self.setup)]
        terms["nst"] = self.options["Beta"] * sum(losses)
