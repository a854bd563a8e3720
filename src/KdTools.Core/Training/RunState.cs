namespace KdTools.Core.Training;

/// <summary>Where a run is and what it has seen: everything a resumable checkpoint must carry besides tensors.</summary>
internal sealed class RunState
{
    public string Stage { get; set; } = "";
    public int Epoch { get; set; }
    public int NextBatch { get; set; }
    public EpochAccumulator Accumulator { get; set; } = new();
    public List<EpochRecord> History { get; set; } = [];

    /// <summary>The stage's first loss, and its task (label) loss unweighted: what divergence is measured against.</summary>
    public double? StageStartLoss { get; set; }

    public double? StageStartTaskLoss { get; set; }

    /// <summary>The terms of the stage's first step, to name the one that grew (not saved: after a resume the largest is named).</summary>
    public IReadOnlyDictionary<string, double>? StageStartTerms { get; set; }

    /// <summary>The resumable checkpoint that holds the run's current state; null when none does (not written, or the last write failed).</summary>
    public string? LastCheckpoint { get; set; }

    /// <summary>The model file of the best epoch so far; null when none was written or its last write failed.</summary>
    public string? BestCheckpoint { get; set; }

    /// <summary>The last checkpoint write that failed, if any (the run went on without it).</summary>
    public KdException? CheckpointFailure { get; set; }

    public void StartStage(string stage)
    {
        Stage = stage;
        Epoch = 0;
        NextBatch = 0;
        Accumulator = new EpochAccumulator();
        StageStartLoss = null;
        StageStartTaskLoss = null;
        StageStartTerms = null;
    }

    /// <summary>The last evaluated main-stage epoch.</summary>
    public EpochRecord? LastEvaluated => History.LastOrDefault(h => h.Stage == Trainer.MainStage && h.Evaluated);

    /// <summary>The evaluated main-stage epoch with the highest <paramref name="scoreMetric"/>, the earliest of equals.</summary>
    public EpochRecord? Best(string scoreMetric) => History
        .Where(h => h.Stage == Trainer.MainStage && h.Evaluated && !double.IsNaN(h.Metric(scoreMetric)))
        .Aggregate((EpochRecord?)null, (best, h) => best is null || h.Metric(scoreMetric) > best.Metric(scoreMetric) ? h : best);

    /// <summary>The state as it must be saved for a resume at (epoch, batch) of the current stage.</summary>
    public RunState Snapshot(int epoch, int batch) => new()
    {
        Stage = Stage,
        Epoch = epoch,
        NextBatch = batch,
        Accumulator = batch == 0 ? new EpochAccumulator() : Accumulator,
        History = History,
        StageStartLoss = StageStartLoss,
        StageStartTaskLoss = StageStartTaskLoss,
    };
}
