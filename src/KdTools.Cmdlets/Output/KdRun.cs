using System.Management.Automation;

namespace KdTools;

/// <summary>
/// One training run, as one flat CSV row with the same columns for every method: what ran (method, networks, recipe
/// and every setting it resolved to), and every accuracy, all from the same epoch (the last one, or the best one with
/// -UseBest). Pipe it to Measure-Student (it carries the student), to Get-KdHistory (its epochs), or to
/// Invoke-Distillation, where it supplies the teacher and nothing else.
/// </summary>
public sealed class KdRun
{
    public string Method { get; init; } = "";
    public string Student { get; init; } = "";
    public string Teacher { get; init; } = "";
    public string Dataset { get; init; } = "";

    /// <summary>
    /// Completed; or Skipped: a row of a sweep whose ledger (Invoke-Distillation -ResultPath) had it completed, carrying
    /// what the ledger recorded and no network (Import-KdModel its Checkpoint).
    /// </summary>
    public string Status { get; init; } = "";

    /// <summary>The recipe the settings came from (Get-KdRecipe); explicit parameters override its values.</summary>
    public string Recipe { get; init; } = "";

    /// <summary>Main-stage epochs completed.</summary>
    public int Epochs { get; init; }

    public int BatchSize { get; init; }

    /// <summary>Base learning rate of the main stage.</summary>
    public double LearningRate { get; init; }

    public double Momentum { get; init; }
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }

    /// <summary>The main stage's schedule with its milestones as epochs, "×0.1 at 150,180,210", "constant", "poly 0.9".</summary>
    public string Schedule { get; init; } = "";

    /// <summary>Training augmentation, "crop4,flip" or "none".</summary>
    public string Augmentation { get; init; } = "";

    public long Seed { get; init; }

    /// <summary>Test top-1 of the reported epoch: the last one, or the best one with -UseBest (what the student has).</summary>
    public double Top1 { get; init; }

    /// <summary>Test top-5 of the same epoch as <see cref="Top1"/>.</summary>
    public double Top5 { get; init; }

    public double BestTop1 { get; init; }

    /// <summary>Test top-5 of the best epoch.</summary>
    public double BestTop5 { get; init; }

    /// <summary>A segmentation run's test mean IoU at the reported epoch (NaN for classification, whose top-1/top-5 are NaN here).</summary>
    public double MeanIoU { get; init; }

    /// <summary>A segmentation run's test mean IoU at its best epoch, the epoch BestEpoch names (NaN for classification).</summary>
    public double BestMeanIoU { get; init; }

    public int BestEpoch { get; init; }

    /// <summary>Test top-1 of each extra exit at the reported epoch, "branch1=0.41;branch2=0.57;ensemble=0.6"; empty for plain networks.</summary>
    public string ExitTop1 { get; init; } = "";

    /// <summary>Mean training loss of the last epoch.</summary>
    public double TrainLoss { get; init; }

    /// <summary>Last epoch's weighted loss terms, "ce=0.12;kd=0.34" (they sum to TrainLoss, except the loss of a method's own second update, SKD's "critic").</summary>
    public string LossTerms { get; init; } = "";

    /// <summary>The method's options as used, "Temperature=4;Alpha=0.9".</summary>
    public string Options { get; init; } = "";

    /// <summary>Pre-stages that ran before the main training, "hint:30" (empty when none).</summary>
    public string PreStages { get; init; } = "";

    public long StudentParameters { get; init; }
    public long TeacherParameters { get; init; }

    /// <summary>Trainable parameters the method added that the student does not keep (connectors, regressors, heads, CRD's memory), as mdistiller counts them.</summary>
    public long ExtraParameters { get; init; }

    public double Seconds { get; init; }
    public string Checkpoint { get; init; } = "";

    [Hidden]
    public KdModel StudentModel { get; init; } = null!;

    [Hidden]
    public KdModel? TeacherModel { get; init; }

    /// <summary>Per-epoch history (stage, epoch, learning rate, losses, accuracy); Get-KdHistory emits it one row per epoch.</summary>
    [Hidden]
    public IReadOnlyList<KdEpoch> History { get; init; } = [];

    /// <summary>Runs the method made before this one (TAKD: the assistant's run, whose student taught this one).</summary>
    [Hidden]
    public IReadOnlyList<KdRun> EarlierRuns { get; init; } = [];

    public override string ToString() => double.IsNaN(MeanIoU)
        ? $"{Method} {(Teacher.Length > 0 ? Teacher + "→" : "")}{Student}: top-1 {Top1:P2} (best {BestTop1:P2} at epoch {BestEpoch}) [{Status}]"
        : $"{Method} {(Teacher.Length > 0 ? Teacher + "→" : "")}{Student}: mIoU {MeanIoU:P2} (best {BestMeanIoU:P2} at epoch {BestEpoch}) [{Status}]";
}

/// <summary>One epoch of a run, flat, for Export-Csv of learning curves (Get-KdHistory).</summary>
public sealed class KdEpoch
{
    public string Method { get; init; } = "";
    public string Student { get; init; } = "";
    public string Teacher { get; init; } = "";
    public long Seed { get; init; }

    /// <summary>"train" for the main stage, or the pre-stage's name.</summary>
    public string Stage { get; init; } = "";

    public int Epoch { get; init; }

    /// <summary>The rate of the epoch's first step.</summary>
    public double LearningRate { get; init; }

    public bool Nesterov { get; init; }
    public double TrainLoss { get; init; }

    /// <summary>Training-batch top-1 (augmented inputs); NaN in pre-stages where the student does not run.</summary>
    public double TrainTop1 { get; init; }

    /// <summary>Test metrics; NaN for epochs that were not evaluated (pre-stages).</summary>
    public double TestLoss { get; init; }

    public double TestTop1 { get; init; }
    public double TestTop5 { get; init; }
    public string LossTerms { get; init; } = "";
    public double Seconds { get; init; }
}
