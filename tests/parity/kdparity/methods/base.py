"""What the parity replay needs from a method: its modules, its pre-stages and the loss terms of one step.

A method's PyTorch formulation subclasses Method. The replay builds it from KdTools' option values (by KdTools' option
names) and the feature shapes of both networks, loads KdTools' initial weights into `extras` (strictly, so the module
structure must mirror KdTools'), then calls `pre_stages()[stage].losses` or `losses` once per step with a Step.
"""
from collections import namedtuple

import torch.nn.functional as F

# parameters: () -> the method's own parameters the stage trains; losses: (step, terms) -> None;
# trains_student: the student runs and its parameters join the stage's optimizer.
PreStage = namedtuple("PreStage", "parameters losses trains_student")

# logits [B, K]; features: name -> tensor; exits: extra classifiers' logits by name (a teacher's heads), in order.
Output = namedtuple("Output", "logits features exits")

# What a method sees in one step: epoch is 0-based within a stage of `epochs` epochs; draws are the random draws
# KdTools recorded for it (CRD's negatives), by name.
Step = namedtuple("Step", "inputs labels indices student teacher epoch epochs draws")

# Feature shapes (batch included) of both networks, class count, training-split size, the teacher's exit names, the
# teacher's preact_norm(stage) (the BatchNorm before a stage's ReLU, or None; None without a teacher), and the
# training split's labels by dataset index.
Setup = namedtuple("Setup", "student teacher classes samples teacher_exits teacher_norm labels")


class Method:
    """A method's PyTorch side. `extras` holds its trainable modules (None when it has none)."""

    # Weight of the label cross-entropy the engine adds in the main stage (term "ce"); 0 = none.
    task_weight = 1.0

    # Whether the teacher runs in train mode (batch statistics, running averages updated), as OFD's references.
    teacher_trains = False

    def __init__(self, options, setup):
        self.options = options
        self.setup = setup
        self.extras = None
        # Keys of `extras` buffers the formulation computes itself rather than loading KdTools' (OFD's margins).
        self.derived = set()

    def pre_stages(self):
        """Stages run before the main one, by KdTools' stage name."""
        return {}

    def prepare_epoch(self, stage):
        """Called at each epoch start after the replay put the student and extras in train mode."""

    def losses(self, step, terms):
        """Adds the main stage's weighted terms to the name -> tensor dict `terms`."""
        raise NotImplementedError


class FeatureMethod(Method):
    """RepDistiller's objective for feature and relation methods: CE + KdWeight·KD + Beta·(the method's terms)."""

    def losses(self, step, terms):
        if self.options["KdWeight"] > 0:
            terms["kd"] = self.options["KdWeight"] * kd_loss(step.student.logits, step.teacher.logits, self.options["Temperature"])
        self.method_losses(step, terms)

    def method_losses(self, step, terms):
        raise NotImplementedError


def kd_loss(student_logits, teacher_logits, temperature):
    """Hinton et al.: T² · KL(softmax(t/T) ‖ softmax(s/T)), summed over classes, averaged over the batch."""
    return F.kl_div(F.log_softmax(student_logits / temperature, 1), F.softmax(teacher_logits.detach() / temperature, 1),
                    reduction="batchmean") * temperature ** 2


def standardize(logits):
    """Logit standardisation (Sun et al. 2024): each sample's logits z-scored, (z − mean) / (1e-7 + std), unbiased std."""
    return (logits - logits.mean(1, keepdim=True)) / (1e-7 + logits.std(1, keepdim=True))


def standardize_if(enabled, logits):
    return standardize(logits) if enabled else logits


def warmup(step, epochs):
    """mdistiller's min(epoch / warm-up, 1) (1-based epochs), the warm-up given in its 240 epochs and scaled to the stage."""
    return 1.0 if epochs <= 0 else min((step.epoch + 1) / (epochs * step.epochs / 240), 1.0)


def match_heights(student, teacher):
    """RepDistiller's spatial rule: the map with the larger height is adaptive-average-pooled to the other's (square)."""
    hs, ht = student.shape[2], teacher.shape[2]
    if hs > ht:
        return F.adaptive_avg_pool2d(student, (ht, ht)), teacher
    if hs < ht:
        return student, F.adaptive_avg_pool2d(teacher, (hs, hs))
    return student, teacher


def stage_count(shapes):
    count = 0
    while f"stage{count + 1}" in shapes:
        count += 1
    return count


def paired_stages(setup):
    """Stages 1..N of both networks, one to one."""
    count = stage_count(setup.student)
    assert count == stage_count(setup.teacher) and count > 0, "student and teacher need the same number of stages"
    return list(range(1, count + 1))
