"""Contrastive representation distillation (Tian et al. 2020): normalised embedding heads, a momentum memory bank of
every training sample per side, and NCE against uniform noise, each side scored against the other side's memory.
The rows are the ones KdTools drew (its "contrast" draw: column 0 the positive), checked against its Sampling mode."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import FeatureMethod
from .heads import EmbeddingHead

EPS = 1e-7


class ContrastMemory(nn.Module):
    def __init__(self, samples, dimension):
        super().__init__()
        self.register_buffer("memory_s", torch.zeros(samples, dimension))
        self.register_buffer("memory_t", torch.zeros(samples, dimension))
        # Z per side, NaN until the first batch estimates it.
        self.register_buffer("normalizers", torch.full((2,), float("nan")))


def nce_loss(scores, samples):
    """−(Σ log P(pos)/(P(pos) + K/N + ε) + Σ log (K/N)/(P(neg) + K/N + ε)) / B for scores [B, K + 1]."""
    noise = (scores.shape[1] - 1) / samples
    positive, negative = scores[:, 0], scores[:, 1:]
    return -((positive / (positive + noise + EPS)).log().sum() + (noise / (negative + noise + EPS)).log().sum()) / scores.shape[0]


class Crd(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        dim = options["FeatureDim"]
        self.extras = nn.ModuleDict({
            "embed_s": EmbeddingHead(setup.student["embedding"][1], dim, normalize=True),
            "embed_t": EmbeddingHead(setup.teacher["embedding"][1], dim, normalize=True),
            "memory": ContrastMemory(setup.samples, dim),
        })

    def check_draws(self, contrast, indices):
        """The rows KdTools drew are what its Sampling promises (RepDistiller's CIFAR100InstanceSample modes): the positive
        is the sample itself (Exact, Uniform) or one of its class (Relax); Exact and Relax negatives are of other classes."""
        labels, sampling = self.setup.labels, self.options["Sampling"]
        own = labels[indices].unsqueeze(1)
        positive_ok = (labels[contrast[:, 0]] == own[:, 0]).all() if sampling == "Relax" else (contrast[:, 0] == indices).all()
        negatives_ok = sampling == "Uniform" or (labels[contrast[:, 1:]] != own).all()
        if not (positive_ok and negatives_ok):
            raise AssertionError(f"KdTools' {sampling} draws break its rule: positives {'ok' if positive_ok else 'wrong'}, "
                                 f"negatives {'ok' if negatives_ok else 'include the sample’s own class'}")

    def method_losses(self, step, terms):
        memory, samples, tau = self.extras["memory"], self.setup.samples, self.options["NceTemperature"]
        contrast = step.draws["contrast"]
        self.check_draws(contrast, step.indices)
        student = self.extras["embed_s"](step.student.features["embedding"])
        teacher = self.extras["embed_t"](step.teacher.features["embedding"])
        student_scores = torch.exp(torch.bmm(memory.memory_t[contrast].detach(), student.unsqueeze(2)).squeeze(2) / tau)
        teacher_scores = torch.exp(torch.bmm(memory.memory_s[contrast].detach(), teacher.unsqueeze(2)).squeeze(2) / tau)
        with torch.no_grad():
            for side, scores in enumerate([student_scores, teacher_scores]):
                if torch.isnan(memory.normalizers[side]):
                    memory.normalizers[side] = scores.mean() * samples
        z_s, z_t = memory.normalizers.tolist()
        terms["crd"] = self.options["Beta"] * (nce_loss(student_scores / z_s, samples) + nce_loss(teacher_scores / z_t, samples))
        momentum = self.options["NceMomentum"]
        with torch.no_grad():
            for bank, embedding in [(memory.memory_s, student), (memory.memory_t, teacher)]:
                bank[step.indices] = F.normalize(bank[step.indices] * momentum + embedding * (1 - momentum), dim=1)
