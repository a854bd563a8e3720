"""Embedding heads shared by CC and CRD: a linear projection of the flattened feature, optionally L2-normalised."""
import torch.nn as nn
import torch.nn.functional as F


class EmbeddingHead(nn.Module):
    def __init__(self, inputs, outputs, normalize):
        super().__init__()
        self.linear = nn.Linear(inputs, outputs)
        self.normalize = normalize

    def forward(self, x):
        projected = self.linear(x.flatten(1))
        return F.normalize(projected, dim=1) if self.normalize else projected
