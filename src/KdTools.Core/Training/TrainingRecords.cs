namespace KdTools.Core.Training;

/// <summary>One epoch of one stage: the schedule, the training loss by term, and test-split accuracy.</summary>
public sealed record EpochRecord
{
    /// <summary>"train" for the main stage, or the pre-stage's name ("hint", "paraphraser", ...).</summary>
    public required string Stage { get; init; }

    /// <summary>1-based epoch within the stage.</summary>
    public required int Epoch { get; init; }

    public required double LearningRate { get; init; }

    /// <summary>Mean total training loss over the epoch's batches.</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Training-batch top-1 accuracy (on augmented inputs), in [0, 1]; NaN for stages without logits.</summary>
    public required double TrainTop1 { get; init; }

    /// <summary>Mean of each weighted loss term ("ce", "kd", ...), summing to <see cref="TrainLoss"/>.</summary>
    public required IReadOnlyDictionary<string, double> Terms { get; init; }

    /// <summary>Test-split metrics; NaN when this epoch was not evaluated.</summary>
    public double TestLoss { get; init; } = double.NaN;
    public double TestTop1 { get; init; } = double.NaN;
    public double TestTop5 { get; init; } = double.NaN;

    /// <summary>Test top-1 of every extra exit (intermediate heads, branches) and "ensemble"; empty for single-exit models.</summary>
    public IReadOnlyDictionary<string, double> ExitTop1 { get; init; } = new Dictionary<string, double>();

    public required TimeSpan Duration { get; init; }
}

/// <summary>Where a run stands, raised per batch and per epoch for progress bars.</summary>
public sealed record TrainingProgress(
    string Stage, int Epoch, int Epochs, int Batch, int Batches, double RunningLoss, double LearningRate, TimeSpan Elapsed)
{
    /// <summary>Overall completion of the stage in [0, 1].</summary>
    public double Fraction => Epochs == 0 ? 1 : (Epoch - 1 + (double)Batch / Math.Max(1, Batches)) / Epochs;
}

/// <summary>How a run ended: both the last and the best epoch are reported, with which epoch was best.</summary>
public sealed record TrainingResult
{
    public required IReadOnlyList<EpochRecord> History { get; init; }
    public required bool Cancelled { get; init; }
    public required TimeSpan Duration { get; init; }

    /// <summary>Main-stage epochs completed.</summary>
    public required int EpochsCompleted { get; init; }

    public required double LastTop1 { get; init; }
    public required double LastTop5 { get; init; }
    public required double BestTop1 { get; init; }

    /// <summary>1-based epoch with the best test top-1 (0 when nothing was evaluated).</summary>
    public required int BestEpoch { get; init; }

    /// <summary>The resumable checkpoint written last (every epoch and on cancel), if any.</summary>
    public string? LastCheckpoint { get; init; }

    public string? BestCheckpoint { get; init; }

    /// <summary>Main-stage records only.</summary>
    public IEnumerable<EpochRecord> TrainEpochs => History.Where(h => h.Stage == Trainer.MainStage);
}
