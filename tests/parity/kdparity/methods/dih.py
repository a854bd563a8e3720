"""DIH (Asadian & Salehi-Abari): the teacher's final classifier and its intermediate heads co-teach the student; each
active branch adds α·T²·KL(batch mean) + (1 − α)·CE, so the label loss counts once per branch. With
LogitStandardization the KL terms see z-scored logits, the cross-entropy the raw ones."""
import torch.nn.functional as F

from .base import Method, kd_loss, standardize_if


class Dih(Method):
    task_weight = 0.0

    def losses(self, step, terms):
        names = ["final"] + list(step.teacher.exits)
        branches = [step.teacher.logits] + list(step.teacher.exits.values())
        alphas = self.options["Alpha"] * len(branches) if len(self.options["Alpha"]) == 1 else self.options["Alpha"]
        temperature, ls = self.options["Temperature"], self.options["LogitStandardization"]
        for name, logits, alpha in zip(names, branches, alphas):
            if alpha != 0:
                terms[f"dih_{name}"] = alpha * kd_loss(standardize_if(ls, step.student.logits), standardize_if(ls, logits), temperature) + \
                    (1 - alpha) * F.cross_entropy(step.student.logits, step.labels)
