using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>BYOT's recipe (Zhang et al., ICCV 2019).</summary>
[Registered]
internal static class ByotRecipe
{
    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new("BYOT", "ArchipLab-LinfengZhang/pytorch-self-distillation-final train.py: 250 epochs, lr 0.1 ÷10 at 83/166/240, batch 128, weight decay 5e-4, crop padded with gray 128 and flip, AutoAugment's CIFAR policy, Cutout 16",
            new TrainingSettings
            {
                Recipe = "BYOT", Epochs = 250, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 83 / 250.0, 166 / 250.0, 240 / 250.0),
                Augmentation = AugmentationPolicy.Standard with { PaddingMode = PaddingMode.Gray, AutoAugment = true, Cutout = 16 },
            }) { ListingOrder = 5 },
    ];
}
