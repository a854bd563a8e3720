using System.Diagnostics;
using System.Management.Automation;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>Parameters and the progress/log bridge shared by the cmdlets that train (New-Teacher, Invoke-Distillation).</summary>
public abstract class KdTrainingCmdlet : KdCmdlet
{
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 100_000)]
    public int Epochs { get; set; } = 10;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 64;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1e-8, 100.0)]
    public double LearningRate { get; set; } = 0.05;

    [Parameter]
    [ValidateRange(0.0, 0.999)]
    public double Momentum { get; set; } = 0.9;

    [Parameter]
    public SwitchParameter Nesterov { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0.0, 1.0)]
    public double WeightDecay { get; set; } = 5e-4;

    /// <summary>Epochs after which the rate is multiplied by -LrDecay; default 62.5/75/87.5 % of -Epochs.</summary>
    [Parameter]
    public int[]? LrMilestones { get; set; }

    [Parameter]
    [ValidateRange(1e-6, 1.0)]
    public double LrDecay { get; set; } = 0.1;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long Seed { get; set; } = 1;

    [Parameter]
    public string Device { get; set; } = "cpu";

    [Parameter]
    [ValidateRange(1, 1024)]
    public int? Threads { get; set; }

    [Parameter]
    public SwitchParameter NoAugment { get; set; }

    /// <summary>Folder for last.safetensors (resumable) and best.safetensors.</summary>
    [Parameter]
    public string? CheckpointPath { get; set; }

    /// <summary>End with the best epoch's weights instead of the last epoch's.</summary>
    [Parameter]
    public SwitchParameter UseBest { get; set; }

    protected TrainingSettings BuildSettings() => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        Momentum = Momentum,
        Nesterov = Nesterov,
        WeightDecay = WeightDecay,
        LrMilestones = LrMilestones,
        LrDecay = LrDecay,
        Seed = Seed,
        Device = Device,
        Threads = Threads,
        Augment = !NoAugment,
        CheckpointDirectory = CheckpointPath is null ? null : ResolvePath(CheckpointPath),
        KeepBestWeights = UseBest,
    };

    /// <summary>Runs the engine with Write-Progress (epoch parent, batch child, throttled) and the log bridge.</summary>
    protected TrainingResult Train(TrainingSettings settings, TrainingJob job, string activity)
    {
        var trainer = new Trainer(settings, CreateLogger());
        trainer.Progress += p => ReportProgress(activity, p);
        try
        {
            return Invoke(() => trainer.Run(job, Cancellation));
        }
        finally
        {
            CompleteProgress(activity);
        }
    }

    protected void CompleteProgress(string activity)
    {
        FlushLog();
        WriteProgress(new ProgressRecord(2, "Batches", "done") { ParentActivityId = 1, RecordType = ProgressRecordType.Completed });
        WriteProgress(new ProgressRecord(1, activity, "done") { RecordType = ProgressRecordType.Completed });
    }

    protected void ReportProgress(string activity, TrainingProgress p)
    {
        bool epochEnd = p.Batch == p.Batches;
        if (!epochEnd && _sinceProgress.ElapsedMilliseconds < 250) return;
        _sinceProgress.Restart();
        FlushLog();
        WriteProgress(new ProgressRecord(1, activity, $"{p.Stage} epoch {p.Epoch}/{p.Epochs}")
        {
            PercentComplete = (int)Math.Clamp(p.Fraction * 100, 0, 100),
        });
        WriteProgress(new ProgressRecord(2, "Batches", $"batch {p.Batch}/{p.Batches}, loss {p.RunningLoss:F4}, lr {p.LearningRate:G3}")
        {
            ParentActivityId = 1,
            PercentComplete = (int)(100.0 * p.Batch / Math.Max(1, p.Batches)),
        });
    }
}
