"""Extra classifiers KdTools mounts on a backbone (a teacher's intermediate heads for DIH), by KdTools' kind name."""
import torch.nn as nn


class LinearStageHeads(nn.Module):
    """DIH's heads: a linear classifier over the flattened output of each chosen stage (exits head{stage})."""

    def __init__(self, configuration):
        super().__init__()
        parts = dict(part.split("=", 1) for part in configuration.split(";"))
        self.stages = [int(s) for s in parts["stages"].split(",")]
        classes = int(parts["classes"])
        self.heads = nn.ModuleList([nn.Linear(int(n), classes) for n in parts["inputs"].split(",")])

    def forward(self, features):
        return {f"head{s}": head(features[f"stage{s}"].flatten(1)) for s, head in zip(self.stages, self.heads)}


class MultiExit(nn.Module):
    """A backbone plus exit heads (KdTools' MultiExitNet); forward gives (logits, features, exits)."""

    def __init__(self, backbone, heads):
        super().__init__()
        self.backbone = backbone
        self.heads = heads

    def forward(self, x):
        logits, features = self.backbone(x)
        return logits, features, self.heads(features)

    def preact_norm(self, stage):
        return self.backbone.preact_norm(stage)


EXIT_HEADS = {
    "linear-stage": LinearStageHeads,
}
