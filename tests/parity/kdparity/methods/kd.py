"""KD (Hinton, Vinyals, Dean 2015): (1 − α)·CE + α·T²·KL(p_teacher ‖ p_student)."""
from .base import Method, kd_loss


class Kd(Method):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.task_weight = 1 - options["Alpha"]

    def losses(self, step, terms):
        terms["kd"] = self.options["Alpha"] * kd_loss(step.student.logits, step.teacher.logits, self.options["Temperature"])
