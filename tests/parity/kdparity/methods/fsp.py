"""FSP (Yim et al. 2017, as RepDistiller): the "flow" between consecutive features (stem, stage1 … stageN) is
G[b, c_top, c_bottom] = mean_hw(top · bottom), the taller map pooled to the other's height; an initialisation stage
trains the student alone on Σ mean((G_s − G_t)²); the main stage is CE (+ KD), plus Beta·FSP when Beta > 0."""
from .base import FeatureMethod, PreStage, match_heights, paired_stages


def flow(bottom, top):
    bottom, top = match_heights(bottom, top)
    return (top.unsqueeze(2) * bottom.unsqueeze(1)).flatten(3).mean(3)


class Fsp(FeatureMethod):
    def __init__(self, options, setup):
        super().__init__(options, setup)
        self.features = ["stem"] + [f"stage{s}" for s in paired_stages(setup)]

    def loss(self, step):
        s = [step.student.features[f] for f in self.features]
        t = [step.teacher.features[f] for f in self.features]
        return sum((flow(s[i], s[i + 1]) - flow(t[i], t[i + 1])).pow(2).mean() for i in range(len(self.features) - 1))

    def pre_stages(self):
        return {"init": PreStage(lambda: [], lambda step, terms: terms.update(fsp=self.loss(step)), True)}

    def method_losses(self, step, terms):
        if self.options["Beta"] > 0:
            terms["fsp"] = self.options["Beta"] * self.loss(step)
