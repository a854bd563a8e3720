#!/usr/bin/python3
"""Reference values of channel-wise distillation (Shu et al., ICCV 2021) in the schema of shared/golden (see its README).

Run with Debian's PyTorch 1.13: /usr/bin/python3 channel_wise_distillation.py > CWD.json

The formula, as TorchDistiller's CriterionCWD (norm_type='channel', divergence='kl') and mmrazor's ChannelWiseDivergence
compute it: every channel's map is a distribution over its H·W positions, softmax(x/τ); the loss is the KL divergence
from the teacher's to the student's, summed over positions, channels and samples, times τ², divided by N·C.
"""
import json

import torch
import torch.nn.functional as F


def cwd(student, teacher, tau):
    n, c, h, w = student.shape
    p_teacher = F.softmax(teacher.reshape(-1, h * w) / tau, dim=1)
    kl = p_teacher * (F.log_softmax(teacher.reshape(-1, h * w) / tau, dim=1) - F.log_softmax(student.reshape(-1, h * w) / tau, dim=1))
    return kl.sum() * tau ** 2 / (n * c)


def tensor_json(t):
    return {'shape': list(t.shape), 'data': t.flatten().tolist()}


def case(name, student, teacher, tau, notes=''):
    student = student.clone().requires_grad_(True)
    loss = cwd(student, teacher, tau)
    loss.backward()
    entry = {'name': name, 'params': {'tau': tau}, 'inputs': {'preds_S': tensor_json(student.detach()), 'preds_T': tensor_json(teacher)},
             'expected': {'loss': loss.item(), 'grad': {'preds_S': tensor_json(student.grad)}}}
    if notes:
        entry['notes'] = notes
    return entry


def main():
    g = torch.Generator().manual_seed(2021)
    randn = lambda *shape, scale=1.0: torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    s = randn(2, 3, 4, 5, scale=2.0)
    cases = [
        case('n2_c3_4x5_tau4', s, randn(2, 3, 4, 5, scale=2.0), 4.0),
        case('n2_c3_4x5_tau1', s, randn(2, 3, 4, 5, scale=2.0), 1.0),
        case('n1_c5_3x3_sharp_teacher_tau4', randn(1, 5, 3, 3), randn(1, 5, 3, 3, scale=20.0), 4.0),
        case('edge_identical_maps_tau4', s, s.clone(), 4.0, 'equal maps: zero loss and zero gradient'),
        case('edge_teacher_shifted_per_channel_tau4', s, s + randn(2, 3, 1, 1, scale=5.0), 4.0,
             'a constant per channel does not change a spatial softmax: zero loss'),
    ]
    print(json.dumps({
        'method': 'CWD',
        'reference': 'TorchDistiller SemSeg-distill utils/criterion.py CriterionCWD(norm_type=channel, divergence=kl); '
                     'mmrazor ChannelWiseDivergence; defaults tau = 4 (paper), loss weight 3',
        'notes': 'loss = tau^2 / (N*C) * sum over n, c, hw of p_T * (log p_T - log p_S), p = softmax over the H*W positions '
                 'of each channel of x / tau; teacher detached; the weight is applied outside',
        'cases': cases}, indent=None, separators=(',', ':')))


if __name__ == '__main__':
    main()
