"""The pre-stage MHKD and TOFD share: the teacher's heads (one after every stage but the last) learn cross-entropy on
the frozen teacher, then stay fixed (no gradient; eval mode unless the teacher trains) while the student learns."""
import torch.nn.functional as F

from .base import Method, PreStage, paired_stages

STAGE = "teacher_heads"


class TeacherHeadMethod(Method):
    """Subclasses set self.extras with a `teacher_heads` list and implement teacher_head_logits(head, feature)."""

    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.stages = paired_stages(setup)
        self.head_stages = self.stages[:-1]

    def pre_stages(self):
        def head_loss(step, terms):
            terms["teacher_head_ce"] = sum(F.cross_entropy(self.teacher_head_logits(i, step.teacher.features[f"stage{s}"]), step.labels)
                                           for i, s in enumerate(self.head_stages))
        return {STAGE: PreStage(self.extras.teacher_heads.parameters, head_loss, False)}

    def prepare_epoch(self, stage):
        # After their stage the heads follow the teacher's mode (part of the teacher in the references).
        self.extras.teacher_heads.train(stage == STAGE or self.teacher_trains)
