using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>TOFD's recipe (Zhang et al. 2020).</summary>
[Registered]
internal static class TofdRecipe
{
    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new("TOFD", "ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation distill.py: 250 epochs, lr 0.1 ÷10 at 80/160/240, batch 128, weight decay 5e-4 (the optimizer it rebuilds on the first step), crop padded with gray 128 and flip, Cutout 16",
            new TrainingSettings
            {
                Recipe = "TOFD", Epochs = 250, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 80 / 250.0, 160 / 250.0, 240 / 250.0),
                Augmentation = AugmentationPolicy.Standard with { PaddingMode = PaddingMode.Gray, Cutout = 16 },
            }) { ListingOrder = 4 },
    ];
}
