using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>RepDistiller's CIFAR-100 recipe (CRD, ICLR 2020), the common KD benchmark.</summary>
[Registered]
internal static class RepDistillerRecipe
{
    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new("RepDistiller", "HobbitLong/RepDistiller train_student.py / train_teacher.py (Tian et al., CRD, ICLR 2020), the common CIFAR-100 KD benchmark",
            new TrainingSettings
            {
                Recipe = "RepDistiller", Epochs = 240, LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 64,
                Schedule = LearningRateSchedule.AtFractions(0.1, 150 / 240.0, 180 / 240.0, 210 / 240.0),
                Augmentation = AugmentationPolicy.Standard,
            })
        {
            LightweightLearningRate = 0.01,
            ListingOrder = 2,
        },
    ];
}
