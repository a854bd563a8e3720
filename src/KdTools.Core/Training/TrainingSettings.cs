namespace KdTools.Core.Training;

/// <summary>
/// How to train. Defaults follow the common CIFAR KD benchmark (RepDistiller): SGD lr 0.05, momentum 0.9,
/// weight decay 5e-4, batch 64, learning rate ×0.1 at 62.5 %, 75 % and 87.5 % of the epochs (150/180/210 of 240).
/// </summary>
public sealed record TrainingSettings
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Epochs (1-based, counted from the start of the stage) after which the rate is multiplied by <see cref="LrDecay"/>; null = 62.5/75/87.5 % of <see cref="Epochs"/>.</summary>
    public int[]? LrMilestones { get; init; }

    public double LrDecay { get; init; } = 0.1;

    /// <summary>Seeds model initialisation, shuffling and augmentation; the same seed gives identical runs.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Random crop with 4-pixel padding and horizontal flips on training batches.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Intra-op threads for libtorch (process-wide); null leaves libtorch's default.</summary>
    public int? Threads { get; init; }

    /// <summary>Folder for last.safetensors (every epoch, and on cancel) and best.safetensors; null = none (a cancel still saves, to a temp folder).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>End the run with the weights of the best-scoring epoch instead of the last one.</summary>
    public bool KeepBestWeights { get; init; }

    /// <summary>Evaluate on the test split every N epochs (the last epoch is always evaluated).</summary>
    public int EvaluateEvery { get; init; } = 1;

    public int[] EffectiveMilestones() => LrMilestones ??
        new[] { 0.625, 0.75, 0.875 }.Select(f => (int)Math.Round(f * Epochs)).Where(m => m > 0 && m < Epochs).Distinct().ToArray();

    /// <summary>The multistep schedule: rate for a 0-based epoch.</summary>
    public double LearningRateAt(int epoch) =>
        LearningRate * Math.Pow(LrDecay, EffectiveMilestones().Count(m => epoch >= m));

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
        Check(LrDecay is > 0 and <= 1, nameof(LrDecay), "must be in (0, 1]", LrDecay);
        Check(EvaluateEvery >= 1, nameof(EvaluateEvery), "must be ≥ 1", EvaluateEvery);
        Check(!Nesterov || Momentum > 0, nameof(Nesterov), "needs Momentum > 0", Nesterov);
        Check(Threads is null or >= 1, nameof(Threads), "must be ≥ 1", Threads ?? 0);
        if (LrMilestones is not null)
            Check(LrMilestones.All(m => m >= 1) && LrMilestones.SequenceEqual(LrMilestones.Order()), nameof(LrMilestones),
                "must be increasing epoch numbers ≥ 1", string.Join(",", LrMilestones));
    }
}
