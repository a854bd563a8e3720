"""Be Your Own Teacher (Zhang et al. 2019): shallow branches after every stage but the last (attention mask, separable
convs to the deepest stage, linear) learn from the labels and from the network's own deepest classifier; adaptation
layers pull the branches' features (all but the second-deepest) towards the deepest feature. No teacher."""
import torch.nn as nn
import torch.nn.functional as F

from .base import Method


def separable(inputs, outputs):
    return nn.Sequential(
        nn.Conv2d(inputs, inputs, 3, stride=2, padding=1, groups=inputs, bias=False),
        nn.Conv2d(inputs, inputs, 1, bias=False), nn.BatchNorm2d(inputs), nn.ReLU(),
        nn.Conv2d(inputs, inputs, 3, padding=1, groups=inputs, bias=False),
        nn.Conv2d(inputs, outputs, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU())


class Branches(nn.Module):
    """attention{i}, scala{i}, fc{i} for the branch after stage i, as in the official code."""

    def __init__(self, channels, classes):
        super().__init__()
        self.count = len(channels) - 1
        for i in range(1, len(channels)):
            c = channels[i - 1]
            self.add_module(f"attention{i}", nn.Sequential(separable(c, c), nn.BatchNorm2d(c), nn.ReLU(),
                                                           nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.Sigmoid()))
            self.add_module(f"scala{i}", nn.Sequential(*[separable(channels[j], channels[j + 1]) for j in range(i - 1, len(channels) - 1)],
                                                       nn.AdaptiveAvgPool2d(1)))
            self.add_module(f"fc{i}", nn.Linear(channels[-1], classes))

    def forward(self, features):
        """(logits, feature) of every branch, shallow to deep."""
        results = []
        for i in range(1, self.count + 1):
            stage = features[f"stage{i}"]
            feature = getattr(self, f"scala{i}")(getattr(self, f"attention{i}")(stage) * stage).flatten(1)
            results.append((getattr(self, f"fc{i}")(feature), feature))
        return results


class ByotModules(nn.Module):
    def __init__(self, branches, deepest_width):
        super().__init__()
        self.branches = branches
        self.adapt = nn.ModuleList([nn.Linear(branches.fc1.in_features, deepest_width) for _ in range(branches.count)])


class Byot(Method):
    task_weight = 0.0

    def __init__(self, options, setup):
        super().__init__(options, setup)
        channels, s = [], 1
        while f"stage{s}" in setup.student:
            channels.append(setup.student[f"stage{s}"][1])
            s += 1
        self.extras = ByotModules(Branches(channels, setup.classes), setup.student["embedding"][1])

    def losses(self, step, terms):
        o = self.options
        temperature, c = o["Temperature"], o["LossCoefficient"]
        deepest = step.student.logits
        target = F.softmax(deepest.detach() / temperature, 1)
        feature0 = step.student.features["embedding"].detach()
        soft, hard, distances = [], [], []
        # Head k = 1 is the second-deepest classifier; heads 2 and deeper from the top also get a feature term.
        for k, (logits, feature) in enumerate(reversed(self.extras.branches(step.student.features)), start=1):
            soft.append(-(target * F.log_softmax(logits / temperature, 1)).sum(1).mean())
            hard.append(F.cross_entropy(logits, step.labels))
            if k >= 2:
                distances.append((self.extras.adapt[k - 1](feature) - feature0).norm())
        terms["ce"] = F.cross_entropy(deepest, step.labels)
        terms["soft_ce"] = c * sum(soft)
        terms["branch_ce"] = (1 - c) * sum(hard)
        if distances:
            terms["feature"] = o["FeatureLossCoefficient"] * sum(distances)
