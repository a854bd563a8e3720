"""DIH (Asadian & Salehi-Abari): the teacher's final classifier and its intermediate heads co-teach the student; each
active branch adds α·T²·KL(batch mean) + (1 − α)·CE, so the label loss counts once per branch."""
import torch.nn.functional as F

from .base import Method, kd_loss


class Dih(Method):
    task_weight = 0.0

    def losses(self, step, terms):
        names = ["final"] + list(step.teacher.exits)
        branches = [step.teacher.logits] + list(step.teacher.exits.values())
        alphas = self.options["Alpha"] * len(branches) if len(self.options["Alpha"]) == 1 else self.options["Alpha"]
        temperature = self.options["Temperature"]
        for name, logits, alpha in zip(names, branches, alphas):
            if alpha != 0:
                terms[f"dih_{name}"] = alpha * kd_loss(step.student.logits, logits, temperature) + \
                    (1 - alpha) * F.cross_entropy(step.student.logits, step.labels)
