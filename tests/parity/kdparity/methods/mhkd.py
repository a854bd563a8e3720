"""Multi-head KD as DIH's baseline: auxiliary heads (two unpadded 3x3 conv-BN-ReLU, pooling, FC-ReLU-FC) after every
stage but the last on both networks; the student and its heads learn (1 − α)·CE + α·T²·KL from the teacher and its
fixed heads, each head pair weighted by HeadWeight."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import kd_loss
from .teacher_heads import TeacherHeadMethod


class MhkdHead(nn.Module):
    def __init__(self, stage_shape, width, classes):
        super().__init__()
        side = min(stage_shape[2], stage_shape[3])
        # Unpadded convs shrink the map by 2; one whose input is already smaller than its kernel is padded instead.
        pad1 = 0 if side >= 3 else 1
        side = side - 2 if side >= 3 else side
        pad2 = 0 if side >= 3 else 1
        self.conv1 = nn.Conv2d(stage_shape[1], width, 3, padding=pad1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=pad2, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, classes)

    def forward(self, x):
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return self.fc2(F.relu(self.fc1(x.mean((2, 3)))))


class MhkdModules(nn.Module):
    def __init__(self, teacher_heads, student_heads):
        super().__init__()
        self.teacher_heads = teacher_heads
        self.student_heads = student_heads


class Mhkd(TeacherHeadMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.task_weight = 1 - options["Alpha"]

        def heads(shapes):
            return nn.ModuleList([MhkdHead(shapes[f"stage{s}"], options["HeadWidth"], setup.classes) for s in self.head_stages])
        self.extras = MhkdModules(heads(setup.teacher), heads(setup.student))

    def teacher_head_logits(self, head, feature):
        return self.extras.teacher_heads[head](feature)

    def losses(self, step, terms):
        alpha, temperature, weight = self.options["Alpha"], self.options["Temperature"], self.options["HeadWeight"]
        terms["kd"] = alpha * kd_loss(step.student.logits, step.teacher.logits, temperature)
        cross_entropies, distillations = [], []
        for i, s in enumerate(self.head_stages):
            student = self.extras.student_heads[i](step.student.features[f"stage{s}"])
            with torch.no_grad():
                teacher = self.extras.teacher_heads[i](step.teacher.features[f"stage{s}"])
            cross_entropies.append(F.cross_entropy(student, step.labels))
            distillations.append(kd_loss(student, teacher, temperature))
        terms["head_ce"] = weight * (1 - alpha) * sum(cross_entropies)
        terms["head_kd"] = weight * alpha * sum(distillations)
