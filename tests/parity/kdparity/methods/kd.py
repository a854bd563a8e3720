"""KD (Hinton, Vinyals, Dean 2015): CeWeight·CE + α·T²·KL(p_teacher ‖ p_student), CeWeight = 1 − α unless given;
with LogitStandardization both logits are z-scored first (Sun et al. 2024)."""
from .base import Method, kd_loss, standardize_if


class Kd(Method):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.task_weight = 1 - options["Alpha"] if options["CeWeight"] is None else options["CeWeight"]

    def losses(self, step, terms):
        ls = self.options["LogitStandardization"]
        terms["kd"] = self.options["Alpha"] * kd_loss(standardize_if(ls, step.student.logits), standardize_if(ls, step.teacher.logits),
                                                      self.options["Temperature"])
