using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>DIH's recipe (Asadian and Salehi-Abari 2021).</summary>
[Registered]
internal static class DihRecipe
{
    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new("DIH", "DIH (Asadian & Salehi-Abari 2021): SGD with Nesterov, ×0.2 at 60/120/180 of 200 epochs, batch 64, reflect-padded crop and flip",
            new TrainingSettings
            {
                Recipe = "DIH", Epochs = 200, LearningRate = 0.1, Momentum = 0.9, Nesterov = true, WeightDecay = 5e-4, BatchSize = 64,
                Schedule = LearningRateSchedule.AtFractions(0.2, 60 / 200.0, 120 / 200.0, 180 / 200.0),
                Augmentation = AugmentationPolicy.Standard with { PaddingMode = PaddingMode.Reflect },
            }) { ListingOrder = 3 },
    ];
}
