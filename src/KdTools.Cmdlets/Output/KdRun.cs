using System.Management.Automation;

namespace KdTools;

/// <summary>
/// One training run, as one flat CSV row with the same columns for every method. Reports both the last epoch's and the
/// best epoch's test accuracy and which epoch was best. Pipe it to Measure-Student (it carries the student) or to
/// Invoke-Distillation (its student becomes the next run's teacher).
/// </summary>
public sealed class KdRun
{
    public string Method { get; init; } = "";
    public string Student { get; init; } = "";
    public string Teacher { get; init; } = "";
    public string Dataset { get; init; } = "";

    /// <summary>Completed / Cancelled.</summary>
    public string Status { get; init; } = "";

    public int Epochs { get; init; }
    public int BatchSize { get; init; }
    public double LearningRate { get; init; }
    public long Seed { get; init; }

    /// <summary>Test top-1 of the last epoch (what the returned student has unless -UseBest).</summary>
    public double Top1 { get; init; }

    public double Top5 { get; init; }
    public double BestTop1 { get; init; }
    public int BestEpoch { get; init; }

    /// <summary>Mean training loss of the last epoch.</summary>
    public double TrainLoss { get; init; }

    /// <summary>Last epoch's weighted loss terms, "ce=0.12;kd=0.34" (they sum to TrainLoss).</summary>
    public string LossTerms { get; init; } = "";

    /// <summary>The method's options as used, "Alpha=0.9;Temperature=4".</summary>
    public string Options { get; init; } = "";

    /// <summary>Pre-stages that ran before the main training, "hint:30" (empty when none).</summary>
    public string PreStages { get; init; } = "";

    public long StudentParameters { get; init; }
    public long TeacherParameters { get; init; }
    public double Seconds { get; init; }
    public string Checkpoint { get; init; } = "";

    [Hidden]
    public KdModel StudentModel { get; init; } = null!;

    [Hidden]
    public KdModel? TeacherModel { get; init; }

    /// <summary>Per-epoch history (stage, epoch, losses, accuracy); also available one row each via -PassThruHistory.</summary>
    [Hidden]
    public IReadOnlyList<KdEpoch> History { get; init; } = [];

    public override string ToString() =>
        $"{Method} {(Teacher.Length > 0 ? Teacher + "→" : "")}{Student}: top-1 {Top1:P2} (best {BestTop1:P2} at epoch {BestEpoch}) [{Status}]";
}

/// <summary>One epoch of a run, flat, for Export-Csv of learning curves.</summary>
public sealed class KdEpoch
{
    public string Method { get; init; } = "";
    public string Student { get; init; } = "";
    public string Stage { get; init; } = "";
    public int Epoch { get; init; }
    public double LearningRate { get; init; }
    public double TrainLoss { get; init; }
    public double TrainTop1 { get; init; }
    public double TestLoss { get; init; }
    public double TestTop1 { get; init; }
    public double TestTop5 { get; init; }
    public string LossTerms { get; init; } = "";
    public double Seconds { get; init; }
}
