using KdTools.Core.Models;

namespace KdTools.Core.Training;

/// <summary>
/// What a run produced: the trained network, its history, every accuracy (all from the same epoch), what trained it,
/// and its checkpoints. The network is a <see cref="MultiExitNet"/> when the method leaves exits (BYOT's branches).
/// </summary>
public sealed record DistillationResult
{
    /// <summary>The trained student (with the best epoch's weights when <see cref="TrainingSettings.KeepBestWeights"/>).</summary>
    public required ClassifierNet Network { get; init; }

    /// <summary>The network that taught the run (for TAKD the assistant); null without one.</summary>
    public ClassifierNet? Teacher { get; init; }

    public required string Method { get; init; }

    /// <summary>The method's options as used, "Name=value;…" (culture-invariant).</summary>
    public required string MethodOptions { get; init; }

    public required TrainingSettings Settings { get; init; }

    /// <summary>The recipe the settings came from.</summary>
    public string Recipe => Settings.Recipe;

    /// <summary>Every epoch of every stage, pre-stages first.</summary>
    public required IReadOnlyList<EpochRecord> History { get; init; }

    /// <summary>Pre-stages that ran, with their epochs, in order ("hint", 30).</summary>
    public required IReadOnlyList<(string Name, int Epochs)> PreStages { get; init; }

    public required bool Cancelled { get; init; }

    /// <summary>Main-stage epochs completed.</summary>
    public required int EpochsCompleted { get; init; }

    /// <summary>
    /// The epoch whose accuracies the run reports: the best one when the run keeps the best weights, else the last
    /// evaluated one; null when nothing was evaluated.
    /// </summary>
    public required EpochRecord? Reported { get; init; }

    /// <summary>The evaluated main-stage epoch with the best score, null when nothing was evaluated.</summary>
    public required EpochRecord? Best { get; init; }

    public double Top1 => Reported?.TestTop1 ?? double.NaN;
    public double Top5 => Reported?.TestTop5 ?? double.NaN;

    /// <summary>Top-1 of every extra exit and "ensemble" at <see cref="Reported"/>'s epoch.</summary>
    public IReadOnlyDictionary<string, double> ExitTop1 => Reported?.ExitTop1 ?? new Dictionary<string, double>();

    /// <summary>Segmentation: mean IoU of <see cref="Reported"/>'s epoch (NaN for classification).</summary>
    public double MeanIoU => Reported?.TestMeanIoU ?? double.NaN;

    /// <summary>Segmentation: pixel accuracy of <see cref="Reported"/>'s epoch (NaN for classification).</summary>
    public double PixelAccuracy => Reported?.TestPixelAccuracy ?? double.NaN;

    /// <summary>Segmentation: the per-class IoUs of <see cref="Reported"/>'s epoch (NaN for a class that occurs nowhere).</summary>
    public IReadOnlyList<double> ClassIoU => Reported?.TestClassIoU(Network.NumClasses) ?? [];

    public double BestMeanIoU => Best?.TestMeanIoU ?? double.NaN;

    public double BestTop1 => Best?.TestTop1 ?? double.NaN;
    public double BestTop5 => Best?.TestTop5 ?? double.NaN;

    /// <summary>1-based main-stage epoch of <see cref="Best"/>; 0 when nothing was evaluated.</summary>
    public int BestEpoch => Best?.Epoch ?? 0;

    /// <summary>Trainable parameters the method added that the trained network does not keep (mdistiller's count).</summary>
    public required long ExtraParameters { get; init; }

    /// <summary>
    /// The run's own resumable checkpoint (<c>&lt;run&gt;-last.safetensors</c>, written every epoch and on cancel), when
    /// it holds the run's final state; null otherwise (no checkpoint folder, or its last write failed).
    /// </summary>
    public string? LastCheckpoint { get; init; }

    /// <summary>The run's best-epoch model file (<c>&lt;run&gt;-best.safetensors</c>), if written.</summary>
    public string? BestCheckpoint { get; init; }

    /// <summary>
    /// The last checkpoint write that failed (<see cref="KdErrorIds.CheckpointWriteFailed"/>) while training went on;
    /// null when every write succeeded. The network is complete either way.
    /// </summary>
    public KdException? CheckpointFailure { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>Runs the method's protocol made before this one, in order (TAKD: the assistant's); empty for most methods.</summary>
    public IReadOnlyList<DistillationResult> EarlierRuns { get; init; } = [];

    /// <summary>Where the run's time went (the bench reads it).</summary>
    internal TrainingTimings Timings { get; init; } = new();

    /// <summary>Main-stage records only.</summary>
    public IEnumerable<EpochRecord> TrainEpochs => History.Where(h => h.Stage == Trainer.MainStage);
}
