using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>TAKD's recipe (Mirzadeh et al., AAAI 2020).</summary>
[Registered]
internal static class TakdRecipe
{
    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new("TAKD", "imirzadeh/Teacher-Assistant-Knowledge-Distillation train.py as it runs for ResNets: 160 epochs (README), batch 128, weight decay 1e-4, no augmentation (get_cifar's crop=False); its adjust_learning_rate never reaches the 0.1 phase (`epoch < int(epoch/2.0)` is never true), so the rate is 0.01, then 0.001 from 75 %",
            new TrainingSettings
            {
                Recipe = "TAKD", Epochs = 160, LearningRate = 0.01, Momentum = 0.9, WeightDecay = 1e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 0.75),
                Augmentation = AugmentationPolicy.None,
            }) { ListingOrder = 7 },
    ];
}
