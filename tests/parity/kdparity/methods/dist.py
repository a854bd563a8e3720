"""DIST (Huang et al. 2022): with y = softmax(z/τ), one minus the mean Pearson correlation of the samples' class
distributions (inter-class) and of the classes' distributions over the batch (intra-class), both ×τ²;
CeWeight·CE + DistWeight·(β·inter + γ·intra); optional logit standardisation."""
import torch.nn.functional as F

from .base import Method, standardize_if


def mean_pearson(a, b):
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return ((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + 1e-8)).mean()


class Dist(Method):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.task_weight = options["CeWeight"]

    def losses(self, step, terms):
        o, ls, tau = self.options, self.options["LogitStandardization"], self.options["Temperature"]
        y_s = F.softmax(standardize_if(ls, step.student.logits) / tau, 1)
        y_t = F.softmax(standardize_if(ls, step.teacher.logits.detach()) / tau, 1)
        terms["dist_inter"] = o["DistWeight"] * o["Beta"] * tau ** 2 * (1 - mean_pearson(y_s, y_t))
        terms["dist_intra"] = o["DistWeight"] * o["Gamma"] * tau ** 2 * (1 - mean_pearson(y_s.t(), y_t.t()))
