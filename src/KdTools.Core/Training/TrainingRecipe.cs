using KdTools.Core.Data;
using KdTools.Core.Models;

namespace KdTools.Core.Training;

/// <summary>
/// A paper's or toolkit's reference training setup: epochs, learning rate and schedule, Nesterov, weight decay, batch
/// size and augmentation, as its official code runs them. Milestones are fractions of the epochs, so a run shortened
/// with <c>with { Epochs = … }</c> keeps the recipe's shape.
/// </summary>
/// <param name="Name">Registry key (<c>RepDistiller</c>, <c>DIH</c>, …).</param>
/// <param name="Source">Where the values come from: the repository and script, and any deviation.</param>
/// <param name="Settings">The recipe's settings for a regular student.</param>
public sealed record TrainingRecipe(string Name, string Source, TrainingSettings Settings)
{
    /// <summary>The learning rate for a lightweight student (<see cref="ArchitectureInfo.Lightweight"/>); null = the same.</summary>
    public double? LightweightLearningRate { get; init; }

    /// <summary>The task the recipe's reference trains (its augmentation is that task's).</summary>
    public PredictionTask Task { get; init; } = PredictionTask.Classification;

    /// <summary>
    /// A quick recipe: the methods' pre-stages that the caller does not size run for a share of the main stage
    /// (<see cref="Methods.MethodOptions.QuickPreStageEpochs"/>, RepDistiller's 30 of 240); a paper's recipe keeps
    /// the paper's lengths.
    /// </summary>
    public bool PreStagesScaleWithRun { get; init; }

    /// <summary>The recipe's settings for the registered <paramref name="studentArchitecture"/>.</summary>
    public TrainingSettings SettingsFor(string studentArchitecture) => SettingsFor(ArchitectureRegistry.Get(studentArchitecture));

    /// <summary>The recipe's settings for <paramref name="student"/>: a lightweight student may get a lower rate.</summary>
    public TrainingSettings SettingsFor(ArchitectureInfo student) =>
        LightweightLearningRate is { } rate && student.Lightweight ? Settings with { LearningRate = rate } : Settings;
}

/// <summary>The named recipes, listed by <c>Get-KdRecipe</c>.</summary>
public static class TrainingRecipes
{
    public const string DefaultName = "Default";

    private static TrainingSettings SkdSettings => new()
    {
        Recipe = "SKD", Epochs = 108, LearningRate = 0.01, Momentum = 0.9, WeightDecay = 1e-4, BatchSize = 8,
        Schedule = LearningRateSchedule.PolyDecay(0.9),
        SegmentationAugmentation = SegmentationAugmentationPolicy.Standard,
    };

    private static readonly AugmentationPolicy ReflectCrop = AugmentationPolicy.Standard with { PaddingMode = PaddingMode.Reflect };

    /// <summary>Every recipe, in listing order.</summary>
    public static IReadOnlyList<TrainingRecipe> All { get; } =
    [
        new(DefaultName, "KdTools' classification defaults: RepDistiller's optimizer, schedule shape, augmentation and lightweight-student rate over 10 epochs, a quick run rather than a paper's length; the methods' pre-stages run 1/8 of the main stage (RepDistiller's 30 of 240), at least 1 epoch",
            new TrainingSettings())
        {
            LightweightLearningRate = 0.01,
            PreStagesScaleWithRun = true,
        },
        new(DefaultName, "KdTools' segmentation defaults: SKD's optimizer (SGD lr 0.01, momentum 0.9, weight decay 1e-4), poly 0.9 per step, batch 8 and random scale 0.5–2.0, crop and flip, over 10 epochs, a quick run rather than the paper's length",
            SkdSettings with { Recipe = DefaultName, Epochs = 10 }) { Task = PredictionTask.Segmentation, PreStagesScaleWithRun = true },
        new("RepDistiller", "HobbitLong/RepDistiller train_student.py / train_teacher.py (Tian et al., CRD, ICLR 2020), the common CIFAR-100 KD benchmark",
            new TrainingSettings
            {
                Recipe = "RepDistiller", Epochs = 240, LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 64,
                Schedule = LearningRateSchedule.AtFractions(0.1, 150 / 240.0, 180 / 240.0, 210 / 240.0),
                Augmentation = AugmentationPolicy.Standard,
            })
        {
            LightweightLearningRate = 0.01,
        },
        new("DIH", "DIH (Asadian & Salehi-Abari 2021): SGD with Nesterov, ×0.2 at 60/120/180 of 200 epochs, batch 64, reflect-padded crop and flip",
            new TrainingSettings
            {
                Recipe = "DIH", Epochs = 200, LearningRate = 0.1, Momentum = 0.9, Nesterov = true, WeightDecay = 5e-4, BatchSize = 64,
                Schedule = LearningRateSchedule.AtFractions(0.2, 60 / 200.0, 120 / 200.0, 180 / 200.0),
                Augmentation = ReflectCrop,
            }),
        new("TOFD", "ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation distill.py: 250 epochs, lr 0.1 ÷10 at 80/160/240, batch 128, weight decay 5e-4 (the optimizer it rebuilds on the first step), crop padded with gray 128 and flip, Cutout 16",
            new TrainingSettings
            {
                Recipe = "TOFD", Epochs = 250, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 80 / 250.0, 160 / 250.0, 240 / 250.0),
                Augmentation = AugmentationPolicy.Standard with { PaddingMode = PaddingMode.Gray, Cutout = 16 },
            }),
        new("BYOT", "ArchipLab-LinfengZhang/pytorch-self-distillation-final train.py: 250 epochs, lr 0.1 ÷10 at 83/166/240, batch 128, weight decay 5e-4, crop padded with gray 128 and flip, AutoAugment's CIFAR policy, Cutout 16",
            new TrainingSettings
            {
                Recipe = "BYOT", Epochs = 250, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 83 / 250.0, 166 / 250.0, 240 / 250.0),
                Augmentation = AugmentationPolicy.Standard with { PaddingMode = PaddingMode.Gray, AutoAugment = true, Cutout = 16 },
            }),
        new("FT", "Jangho-Kim/Factor-Transfer-pytorch train_student.py (CIFAR-10): 164 epochs (range(0, 163 + 1)), lr 0.1 ×0.1 at 82/123, batch 128, weight decay 5e-4, crop and flip",
            new TrainingSettings
            {
                Recipe = "FT", Epochs = 164, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 5e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 82 / 164.0, 123 / 164.0),
                Augmentation = AugmentationPolicy.Standard,
            }),
        new("TAKD", "imirzadeh/Teacher-Assistant-Knowledge-Distillation train.py as it runs for ResNets: 160 epochs (README), batch 128, weight decay 1e-4, no augmentation (get_cifar's crop=False); its adjust_learning_rate never reaches the 0.1 phase (`epoch < int(epoch/2.0)` is never true), so the rate is 0.01, then 0.001 from 75 %",
            new TrainingSettings
            {
                Recipe = "TAKD", Epochs = 160, LearningRate = 0.01, Momentum = 0.9, WeightDecay = 1e-4, BatchSize = 128,
                Schedule = LearningRateSchedule.AtFractions(0.1, 0.75),
                Augmentation = AugmentationPolicy.None,
            }),
        new("SKD", "irfanICMLL/structure_knowledge_distillation (Liu et al., SKD, segmentation), train_options' defaults: SGD lr 0.01 (--lr-g), momentum 0.9, weight decay 1e-4 (the authors' run_train_val.sh passes 5e-4), poly 0.9 per step over the run, batch 8, random scale 0.5–2.0 in steps of 0.1, crop (512 on Cityscapes; here the stored image size) and flip; 40000 steps of 8 images, which is 108 epochs of Cityscapes' 2975 training images. The critic's own SGD is set by the SKD method's options. The paper's networks: pspnet_resnet101_deepstem teaching pspnet_resnet18_deepstem",
            SkdSettings) { Task = PredictionTask.Segmentation },
    ];

    /// <summary>Whether the recipe called <paramref name="name"/> is a quick one (<see cref="TrainingRecipe.PreStagesScaleWithRun"/>); false for an unknown name.</summary>
    public static bool ScalesPreStages(string name) =>
        All.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))?.PreStagesScaleWithRun ?? false;

    /// <summary>
    /// The recipe called <paramref name="name"/> (case-insensitive), or an error listing the known ones; a name with
    /// a recipe per task (<c>Default</c>) gives the classification one.
    /// </summary>
    public static TrainingRecipe Get(string name) => Get(name, PredictionTask.Classification);

    /// <summary>
    /// The recipe called <paramref name="name"/> for a run of <paramref name="task"/>: <c>Default</c> is each task's
    /// own; any other recipe is the same for every task.
    /// </summary>
    public static TrainingRecipe Get(string name, PredictionTask task)
    {
        var named = All.Where(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (named.Count == 0)
            throw new KdException(KdErrorIds.RecipeUnknown, KdErrorKind.InvalidArgument,
                UnknownName.Message("recipe", name, All.Select(r => r.Name).Distinct()), name);
        return named.FirstOrDefault(r => r.Task == task) ?? named[0];
    }

    /// <summary>The recipe a run of <paramref name="task"/> uses when none is named.</summary>
    public static TrainingRecipe DefaultFor(PredictionTask task) => Get(DefaultName, task);
}
