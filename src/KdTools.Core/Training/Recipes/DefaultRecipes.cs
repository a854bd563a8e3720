using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>KdTools' own defaults, one per task: a quick run rather than a paper's length.</summary>
[Registered]
internal static class DefaultRecipes
{
    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new(TrainingRecipes.DefaultName, "KdTools' classification defaults: RepDistiller's optimizer, schedule shape, augmentation and lightweight-student rate over 10 epochs, a quick run rather than a paper's length; the methods' pre-stages run 1/8 of the main stage (RepDistiller's 30 of 240), at least 1 epoch",
            new TrainingSettings())
        {
            LightweightLearningRate = 0.01,
            PreStagesScaleWithRun = true,
            ListingOrder = 0,
        },
        new(TrainingRecipes.DefaultName, "KdTools' segmentation defaults: SKD's optimizer (SGD lr 0.01, momentum 0.9, weight decay 1e-4), poly 0.9 per step, batch 8 and random scale 0.5–2.0, crop and flip, over 10 epochs, a quick run rather than the paper's length",
            SkdRecipe.Settings with { Recipe = TrainingRecipes.DefaultName, Epochs = 10 }) { Task = PredictionTask.Segmentation, PreStagesScaleWithRun = true, IsTaskVariant = true, ListingOrder = 1 },
    ];
}
