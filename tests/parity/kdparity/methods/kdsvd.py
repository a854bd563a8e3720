"""KD with SVD (Lee, Kim, Song 2018, as mdistiller's KDSVD): per stage, the teacher's k leading right singular vectors
and the student's k + 3 (torch.svd of each sample's (H·W)×C matrix for Layout Channels, (C·H)×W for Width; non-finite
entries zeroed; vectors and the leading singular values L2-normalised); each teacher vector is matched by the student
vector of largest |cosine|, sign-corrected; both are scaled by the teacher's values. Consecutive stages are related by
exp(−(a_p − b_q)²/8), and Σ (rbf_s − rbf_t)² (non-finite entries dropped) / B is the loss. KdTools fixes the teacher's
signs (largest-magnitude entry positive) where the reference leaves them to the SVD routine; so does this replay."""
import torch

from .base import FeatureMethod, paired_stages


def finite(x):
    return torch.where(torch.isfinite(x), x, torch.zeros_like(x))


def decompose(feature, n, layout):
    b, c, h, w = feature.shape
    matrix = feature.reshape(b, c, h * w).transpose(1, 2) if layout == "Channels" else feature.reshape(b, c * h, w)
    _, values, vectors = torch.svd(matrix)
    kept = min(n, values.shape[1])
    return (torch.nn.functional.normalize(finite(values)[:, :kept], dim=1),
            torch.nn.functional.normalize(finite(vectors)[:, :, :kept], dim=1))


def align(candidates, targets):
    cosine = candidates.transpose(1, 2) @ targets
    best = cosine.abs().max(1, keepdim=True).values
    return candidates @ torch.where(cosine.abs() == best, cosine.sign(), torch.zeros_like(cosine))


def canonical_signs(vectors):
    sign = vectors.gather(1, vectors.abs().argmax(1, keepdim=True)).sign()
    return vectors * torch.where(sign == 0, torch.ones_like(sign), sign)


def rbf(a, b):
    return torch.exp(-(a.unsqueeze(2) - b.unsqueeze(1)).pow(2) / 8)


class Kdsvd(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.stages = paired_stages(setup)

    def method_losses(self, step, terms):
        k, layout = self.options["K"], self.options["Layout"]
        total, previous = 0, None
        for s in self.stages:
            teacher_values, teacher_vectors = decompose(step.teacher.features[f"stage{s}"].detach(), k, layout)
            _, student_vectors = decompose(step.student.features[f"stage{s}"], k + 3, layout)
            weights = teacher_values.unsqueeze(1)
            teacher_vectors = canonical_signs(teacher_vectors)
            current = (align(student_vectors, teacher_vectors) * weights, teacher_vectors * weights)
            if previous is not None:
                difference = (rbf(current[0], previous[0]) - rbf(current[1], previous[1]).detach()).pow(2)
                total = total + finite(difference).sum()
            previous = current
        terms["kdsvd"] = self.options["Beta"] * total / step.student.logits.shape[0]
