"""Attention transfer (Zagoruyko & Komodakis 2017): L2-normalised maps mean_c(f^p) of every stage pair, squared error."""
import torch.nn.functional as F

from .base import FeatureMethod, match_heights, paired_stages


def attention(feature, p):
    return F.normalize(feature.pow(p).mean(1).flatten(1), dim=1)


def attention_loss(student, teacher, p):
    student, teacher = match_heights(student, teacher)
    return (attention(student, p) - attention(teacher, p)).pow(2).mean()


class AttentionTransfer(FeatureMethod):
    def method_losses(self, step, terms):
        losses = [attention_loss(step.student.features[f"stage{s}"], step.teacher.features[f"stage{s}"], self.options["P"])
                  for s in paired_stages(self.setup)]
        terms["at"] = self.options["Beta"] * sum(losses)
