using KdTools.Core.Data;

namespace KdTools.Core.Training;

/// <summary>
/// How to train: the main stage's optimizer, schedule and augmentation, and the run's plumbing (seed, device,
/// checkpoints). A named recipe (<see cref="TrainingRecipes"/>) gives a paper's values; <c>with { … }</c> overrides
/// single settings. The defaults are the <c>Default</c> recipe: 10 epochs (a quick run, not a paper's length), SGD
/// lr 0.05, momentum 0.9, weight decay 5e-4, batch 64, ×0.1 at 62.5/75/87.5 % of the epochs (RepDistiller's
/// 150/180/210 of 240), pad-4 crop and flip.
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>The recipe these settings came from, recorded in the run and its checkpoints.</summary>
    public string Recipe { get; init; } = TrainingRecipes.DefaultName;

    /// <summary>Epochs of the main stage (pre-stages have their own, in the method's options).</summary>
    public int Epochs { get; init; } = 10;

    public int BatchSize { get; init; } = 64;

    /// <summary>Base learning rate of the main stage.</summary>
    public double LearningRate { get; init; } = 0.05;

    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>The main stage's schedule. Pre-stages run on their own (constant unless the method says otherwise).</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.AtFractions(0.1, 0.625, 0.75, 0.875);

    /// <summary>Training-batch augmentation of a classification run; <see cref="AugmentationPolicy.None"/> turns it off.</summary>
    public AugmentationPolicy Augmentation { get; init; } = AugmentationPolicy.Standard;

    /// <summary>
    /// Training-batch augmentation of a segmentation run, applied to images and label maps together (the reference's
    /// random scale 0.5–2.0, crop and flip unless a recipe says otherwise); <see cref="SegmentationAugmentationPolicy.None"/>
    /// turns it off.
    /// </summary>
    public SegmentationAugmentationPolicy SegmentationAugmentation { get; init; } = SegmentationAugmentationPolicy.Standard;

    /// <summary>The augmentation a run of <paramref name="task"/> uses, as short text (<c>crop4,flip</c>, <c>scale0.5-2,flip</c>).</summary>
    public string DescribeAugmentation(PredictionTask task) =>
        task == PredictionTask.Segmentation ? SegmentationAugmentation.ToString() : Augmentation.ToString();

    /// <summary>
    /// Seeds the student's and the method's initial weights, shuffling, augmentation and every random draw of a step;
    /// the same seed gives bit-identical runs, alone or in parallel in one process.
    /// </summary>
    public long Seed { get; init; } = 1;

    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// libtorch's intra-op threads, a process-wide setting: a run that sets it sets it for every run in the process.
    /// Null leaves the process's setting alone (libtorch's default: one thread per core), which is what runs in
    /// parallel should do, so none of them changes the others' arithmetic (results can differ in the last bits
    /// between thread counts).
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>Folder for last.safetensors (every epoch, and on cancel) and best.safetensors; null = none (a cancel still saves, to a temp folder).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>End the run with the weights of the best-scoring epoch, and report every accuracy of that epoch.</summary>
    public bool KeepBestWeights { get; init; }

    /// <summary>Evaluate on the test split every N epochs (the last epoch is always evaluated).</summary>
    public int EvaluateEvery { get; init; } = 1;

    public void Validate()
    {
        void Check(bool ok, string name, string rule, object value)
        {
            if (!ok) throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"{name} = {value} is invalid: {rule}", name);
        }
        Check(Epochs >= 0, nameof(Epochs), "must be ≥ 0", Epochs);
        Check(BatchSize >= 1, nameof(BatchSize), "must be ≥ 1", BatchSize);
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), "must be a positive number", LearningRate);
        Check(Momentum is >= 0 and < 1, nameof(Momentum), "must be in [0, 1)", Momentum);
        Check(WeightDecay >= 0, nameof(WeightDecay), "must be ≥ 0", WeightDecay);
        Check(EvaluateEvery >= 1, nameof(EvaluateEvery), "must be ≥ 1", EvaluateEvery);
        Check(!Nesterov || Momentum > 0, nameof(Nesterov), "needs Momentum > 0", Nesterov);
        Check(Threads is null or >= 1, nameof(Threads), "must be ≥ 1", Threads ?? 0);
        Schedule.Validate(nameof(Schedule));
        SegmentationAugmentation.Validate();
    }
}
