using KdTools.Core.Data;

namespace KdTools.Core.Training.Recipes;

/// <summary>SKD's segmentation recipe (Liu et al., CVPR 2019).</summary>
[Registered]
internal static class SkdRecipe
{
    /// <summary>SKD's optimizer, schedule, batch and augmentation (the segmentation Default's too, over fewer epochs).</summary>
    internal static TrainingSettings Settings => new()
    {
        Recipe = "SKD", Epochs = 108, LearningRate = 0.01, Momentum = 0.9, WeightDecay = 1e-4, BatchSize = 8,
        Schedule = LearningRateSchedule.PolyDecay(0.9),
        SegmentationAugmentation = SegmentationAugmentationPolicy.Standard,
    };

    internal static IEnumerable<TrainingRecipe> Recipes() =>
    [
        new("SKD", "irfanICMLL/structure_knowledge_distillation (Liu et al., SKD, segmentation), train_options' defaults: SGD lr 0.01 (--lr-g), momentum 0.9, weight decay 1e-4 (the authors' run_train_val.sh passes 5e-4), poly 0.9 per step over the run, batch 8, random scale 0.5–2.0 in steps of 0.1, crop (512 on Cityscapes; here the stored image size) and flip; 40000 steps of 8 images, which is 108 epochs of Cityscapes' 2975 training images. The critic's own SGD is set by the SKD method's options. The paper's networks: pspnet_resnet101_deepstem teaching pspnet_resnet18_deepstem",
            Settings) { Task = PredictionTask.Segmentation, ListingOrder = 8 },
    ];
}
