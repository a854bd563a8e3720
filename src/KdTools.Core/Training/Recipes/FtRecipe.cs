using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>Factor Transfer's recipe (Kim et al., NeurIPS 2018).</summary>
[Registered]
internal static class FtRecipe
{
    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new("FT", "Jangho-Kim/Factor-Transfer-pytorch train_student.py (CIFAR-10): 164 epochs (range(0, 163 + 1)), lr 0.1 ×0.1 at 82/123, batch 128, weight decay 5e-4, crop and flip",
            new TrainingSettings
            {
                Recipe = "FT", Epochs = 164, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 82 / 164.0, 123 / 164.0),
                Augmentation = AugmentationPolicy.Standard,
            }) { ListingOrder = 6 },
    ];
}
