"""Decoupled KD (Zhao et al. 2022, mdistiller's DKD): Hinton's KL split into the target-class part (the KL of the
binary (target, rest) probabilities) and the non-target part (the KL among the other classes, the target logit pushed
out by 1000); CeWeight·CE + warm-up·(α·TCKD + β·NCKD), both parts ×T²/B; optional logit standardisation."""
import torch
import torch.nn.functional as F

from .base import Method, standardize_if, warmup


def dkd_parts(student, teacher, target, temperature):
    gt = F.one_hot(target, student.shape[1]).to(student.dtype)
    scale = temperature ** 2 / student.shape[0]
    p_s, p_t = F.softmax(student / temperature, 1), F.softmax(teacher / temperature, 1)

    def binary(p):
        return torch.stack([(p * gt).sum(1), (p * (1 - gt)).sum(1)], 1)
    tckd = F.kl_div(torch.log(binary(p_s)), binary(p_t), reduction="sum") * scale
    nckd = F.kl_div(F.log_softmax(student / temperature - 1000 * gt, 1), F.softmax(teacher / temperature - 1000 * gt, 1),
                    reduction="sum") * scale
    return tckd, nckd


class Dkd(Method):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.task_weight = options["CeWeight"]

    def losses(self, step, terms):
        o, ls = self.options, self.options["LogitStandardization"]
        tckd, nckd = dkd_parts(standardize_if(ls, step.student.logits), standardize_if(ls, step.teacher.logits.detach()),
                               step.labels, o["Temperature"])
        factor = warmup(step, o["WarmupEpochs"])
        terms["tckd"] = factor * o["Alpha"] * tckd
        terms["nckd"] = factor * o["Beta"] * nckd
