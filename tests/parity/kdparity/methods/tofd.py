"""Task-oriented feature distillation (Zhang et al. 2020): backbone-shaped heads (depthwise-separable blocks, pooling,
linear) after every stage but the last on both networks; CE + KL at a ramped temperature (no T²) per head and for the
final classifier, the L2 distance of resized head features (and embeddings), and an orthogonality penalty on the
bias-free resizing layers."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import kd_loss
from .teacher_heads import TeacherHeadMethod


def separable(inputs, outputs, stride):
    return nn.Sequential(
        nn.Conv2d(inputs, inputs, 3, stride=stride, padding=1, groups=inputs, bias=False),
        nn.Conv2d(inputs, inputs, 1, bias=False), nn.BatchNorm2d(inputs), nn.ReLU(),
        nn.Conv2d(inputs, inputs, 3, padding=1, groups=inputs, bias=False),
        nn.Conv2d(inputs, outputs, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU())


class TaskOrientedHead(nn.Module):
    """One separable block per later stage (stride 2 where the backbone halves the map), pooling, linear."""

    def __init__(self, shapes, classes):
        super().__init__()
        self.blocks = nn.Sequential(*[separable(a[1], b[1], 2 if b[2] < a[2] else 1) for a, b in zip(shapes, shapes[1:])])
        self.fc = nn.Linear(shapes[-1][1], classes)

    def forward(self, x):
        feature = self.blocks(x).mean((2, 3))
        return self.fc(feature), feature


class FeatureResizer(nn.Module):
    def __init__(self, student_width, teacher_width):
        super().__init__()
        self.linear = nn.Linear(student_width, teacher_width, bias=False)

    def forward(self, x):
        return self.linear(x)

    def orthogonality(self):
        w = self.linear.weight
        return (w @ w.t() - torch.eye(w.shape[0], dtype=w.dtype)).norm() + (w.t() @ w - torch.eye(w.shape[1], dtype=w.dtype)).norm()


class TofdModules(nn.Module):
    def __init__(self, teacher_heads, student_heads, resizers):
        super().__init__()
        self.teacher_heads = teacher_heads
        self.student_heads = student_heads
        self.resizers = resizers


class Tofd(TeacherHeadMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)

        def heads(shapes):
            return nn.ModuleList([TaskOrientedHead([shapes[f"stage{later}"] for later in self.stages if later >= s], setup.classes)
                                  for s in self.head_stages])
        teacher, student = heads(setup.teacher), heads(setup.student)
        widths = [(s.fc.in_features, t.fc.in_features) for s, t in zip(student, teacher)]
        widths.append((setup.student["embedding"][1], setup.teacher["embedding"][1]))
        self.extras = TofdModules(teacher, student, nn.ModuleList([FeatureResizer(s, t) for s, t in widths]))
        # The official teacher (heads included) stays in train mode while the student learns.
        self.teacher_trains = options.get("TeacherMode", "Train") == "Train"

    def teacher_head_logits(self, head, feature):
        return self.extras.teacher_heads[head](feature)[0]

    def losses(self, step, terms):
        o, modules = self.options, self.extras
        ramp = o["TemperatureRampEpochs"]
        temperature = 1 + o["Temperature"] * min(step.epoch + 1, ramp) / ramp

        def kl(student, teacher):
            return kd_loss(student, teacher, temperature) / temperature ** 2

        terms["kd"] = o["KdWeight"] * kl(step.student.logits, step.teacher.logits)
        cross_entropies, distillations, distances = [], [], []
        for i, s in enumerate(self.head_stages):
            student_logits, student_feature = modules.student_heads[i](step.student.features[f"stage{s}"])
            with torch.no_grad():
                teacher_logits, teacher_feature = modules.teacher_heads[i](step.teacher.features[f"stage{s}"])
            cross_entropies.append(F.cross_entropy(student_logits, step.labels))
            distillations.append(kl(student_logits, teacher_logits))
            distances.append(torch.dist(modules.resizers[i](student_feature), teacher_feature))
        distances.append(torch.dist(modules.resizers[-1](step.student.features["embedding"]), step.teacher.features["embedding"]))
        terms["head_ce"] = sum(cross_entropies)
        terms["head_kd"] = o["KdWeight"] * sum(distillations)
        terms["feature"] = o["FeatureWeight"] * sum(distances)
        terms["orthogonal"] = o["OrthogonalWeight"] * sum(r.orthogonality() for r in modules.resizers)
