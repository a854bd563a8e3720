using System.Text.Json.Serialization;
using KdTools.Core.Evaluation;

namespace KdTools.Core.Training;

/// <summary>Names of the test metrics a task reports (keys of <see cref="EpochRecord.Test"/>).</summary>
internal static class MetricNames
{
    /// <summary>Mean label loss on the test split (every task).</summary>
    public const string Loss = "loss";

    /// <summary>Classification: fraction of test images whose top class is the label.</summary>
    public const string Top1 = "top1";

    /// <summary>Classification: fraction whose label is among the top min(5, classes) classes.</summary>
    public const string Top5 = "top5";

    /// <summary>Segmentation: mean intersection over union of the classes present, from all test pixels.</summary>
    public const string MeanIoU = "miou";

    /// <summary>Segmentation: fraction of labelled test pixels predicted right.</summary>
    public const string PixelAccuracy = "pixel_accuracy";

    private const string ClassIoUPrefix = "iou.";

    /// <summary>Segmentation: the IoU of class <paramref name="index"/> (absent when the class occurs nowhere).</summary>
    public static string ClassIoU(int index) => ClassIoUPrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One epoch of one stage: the schedule, the training loss by term, and the test split's metrics.</summary>
public sealed record EpochRecord
{
    /// <summary>"train" for the main stage, or the pre-stage's name ("hint", "paraphraser", ...).</summary>
    public required string Stage { get; init; }

    /// <summary>1-based epoch within the stage.</summary>
    public required int Epoch { get; init; }

    /// <summary>The rate of the epoch's first step (a poly schedule moves it every step).</summary>
    public required double LearningRate { get; init; }

    /// <summary>Whether the stage's SGD used Nesterov momentum.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Mean total training loss over the epoch's batches.</summary>
    public required double TrainLoss { get; init; }

    /// <summary>
    /// Share of the epoch's training predictions (on augmented inputs) that match the labels, in [0, 1] (top-1 for
    /// classification); NaN for stages where the student does not run.
    /// </summary>
    public required double TrainAccuracy { get; init; }

    /// <summary>Mean of each weighted loss term ("ce", "kd", ...), summing to <see cref="TrainLoss"/>.</summary>
    public required IReadOnlyDictionary<string, double> Terms { get; init; }

    /// <summary>
    /// The test metrics of every exit when this epoch was evaluated, else empty: "final" (the network's own output)
    /// first, then the extra exits and "ensemble"; each maps metric names (<see cref="MetricNames"/>) to values.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Test { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, double>>();

    public required TimeSpan Duration { get; init; }

    /// <summary>Whether the test split was evaluated after this epoch.</summary>
    [JsonIgnore]
    public bool Evaluated => Test.Count > 0;

    [JsonIgnore]
    public double TestLoss => Metric(MetricNames.Loss);

    [JsonIgnore]
    public double TestTop1 => Metric(MetricNames.Top1);

    [JsonIgnore]
    public double TestTop5 => Metric(MetricNames.Top5);

    [JsonIgnore]
    public double TestMeanIoU => Metric(MetricNames.MeanIoU);

    [JsonIgnore]
    public double TestPixelAccuracy => Metric(MetricNames.PixelAccuracy);

    /// <summary>Segmentation: the IoU of each of <paramref name="classes"/> classes, NaN for a class that occurs nowhere.</summary>
    public IReadOnlyList<double> TestClassIoU(int classes) => Enumerable.Range(0, classes).Select(c => Metric(MetricNames.ClassIoU(c))).ToList();

    /// <summary>Test top-1 of every extra exit (intermediate heads, branches) and "ensemble"; empty for single-exit models.</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, double> ExitTop1 => Test.Where(e => e.Key != ExitNames.Final)
        .ToDictionary(e => e.Key, e => e.Value.GetValueOrDefault(MetricNames.Top1, double.NaN));

    /// <summary>A test metric of an exit; NaN when the epoch was not evaluated or the task has no such metric.</summary>
    public double Metric(string metric, string exit = ExitNames.Final) =>
        Test.TryGetValue(exit, out var metrics) ? metrics.GetValueOrDefault(metric, double.NaN) : double.NaN;
}

/// <summary>Where a run stands, raised per batch and per epoch for progress bars.</summary>
public sealed record TrainingProgress(
    string Stage, int Epoch, int Epochs, int Batch, int Batches, double RunningLoss, double LearningRate, TimeSpan Elapsed)
{
    /// <summary>Empty for the requested run; the name of an earlier run of its protocol (TAKD's "assistant") otherwise.</summary>
    public string Run { get; init; } = "";

    /// <summary>Overall completion of the stage in [0, 1].</summary>
    public double Fraction => Epochs == 0 ? 1 : (Epoch - 1 + (double)Batch / Math.Max(1, Batches)) / Epochs;
}

/// <summary>How the engine's run ended: the history, which evaluated epochs were last and best, the checkpoints.</summary>
internal sealed record TrainingResult
{
    /// <summary>The trained student, with the exits the method grew on it (a <see cref="Models.MultiExitNet"/>) if any.</summary>
    public required Models.ClassifierNet Network { get; init; }

    public required IReadOnlyList<EpochRecord> History { get; init; }
    public required bool Cancelled { get; init; }
    public required TimeSpan Duration { get; init; }

    /// <summary>Main-stage epochs completed.</summary>
    public required int EpochsCompleted { get; init; }

    /// <summary>The last evaluated main-stage epoch, if any.</summary>
    public required EpochRecord? LastEvaluated { get; init; }

    /// <summary>The evaluated main-stage epoch with the highest score (the earliest of equals), if any.</summary>
    public required EpochRecord? Best { get; init; }

    /// <summary>Trainable parameters the method added that the trained student does not keep.</summary>
    public required long ExtraParameters { get; init; }

    /// <summary>The resumable checkpoint that holds the run's final state (every epoch and on cancel), if one does.</summary>
    public string? LastCheckpoint { get; init; }

    public string? BestCheckpoint { get; init; }

    /// <summary>The last checkpoint write that failed while the run went on, if any.</summary>
    public KdException? CheckpointFailure { get; init; }

    /// <summary>Main-stage records only.</summary>
    public IEnumerable<EpochRecord> TrainEpochs => History.Where(h => h.Stage == Trainer.MainStage);
}
