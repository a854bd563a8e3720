using System.Diagnostics;
using System.Management.Automation;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>Parameters and the progress/log bridge shared by the cmdlets that train (New-Teacher, Invoke-Distillation).</summary>
public abstract class KdTrainingCmdlet : KdCmdlet
{
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

    /// <summary>
    /// Training epochs (full passes over the training split). The learning rate drops at -LrMilestones, which by
    /// default scale with the epochs.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 100_000)]
    public int Epochs { get; set; } = 10;

    /// <summary>Training images per SGD step. A smaller batch needs less memory; scale -LearningRate with it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 64;

    /// <summary>SGD's initial learning rate; multiplied by -LrDecay at each of -LrMilestones.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1e-8, 100.0)]
    public double LearningRate { get; set; } = 0.05;

    /// <summary>SGD momentum, 0 to 0.999 (0 turns momentum off).</summary>
    [Parameter]
    [ValidateRange(0.0, 0.999)]
    public double Momentum { get; set; } = 0.9;

    /// <summary>Use Nesterov momentum instead of classical momentum (needs -Momentum above 0).</summary>
    [Parameter]
    public SwitchParameter Nesterov { get; set; }

    /// <summary>L2 weight decay SGD applies to every trained weight (0 turns it off).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0.0, 1.0)]
    public double WeightDecay { get; set; } = 5e-4;

    /// <summary>
    /// Epochs (1-based, increasing, counted from the start of each training stage) after which the learning rate is
    /// multiplied by -LrDecay, e.g. -LrMilestones 150, 180, 210 for 240 epochs.
    /// </summary>
    /// <value>62.5, 75 and 87.5 % of -Epochs, rounded (the CIFAR KD benchmark's 150, 180, 210 of 240)</value>
    [Parameter]
    public int[]? LrMilestones { get; set; }

    /// <summary>Factor the learning rate is multiplied by at each of -LrMilestones.</summary>
    [Parameter]
    [ValidateRange(1e-6, 1.0)]
    public double LrDecay { get; set; } = 0.1;

    /// <summary>
    /// Seeds the network's initialisation, the shuffling and the augmentation: the same seed and settings give the
    /// same run, bit for bit. Change it to see how much a result varies from run to run.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long Seed { get; set; } = 1;

    /// <summary>Where to train: cpu, cuda or cuda:N (CUDA needs the cuda-windows build of the module, see README).</summary>
    [Parameter]
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// CPU threads libtorch uses within an operation. The setting is process-wide: it stays in effect for later
    /// commands in the same session.
    /// </summary>
    /// <value>libtorch's default (or the last -Threads given in this session)</value>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int? Threads { get; set; }

    /// <summary>
    /// Train on the images as they are. By default every training batch is augmented: random crops with 4 pixels of
    /// padding and random horizontal flips.
    /// </summary>
    [Parameter]
    public SwitchParameter NoAugment { get; set; }

    /// <summary>
    /// Folder to write checkpoints to: last.safetensors after every epoch and when Ctrl+C stops the run (resumable
    /// with Invoke-Distillation -Resume), and best.safetensors for the best epoch. Created when missing.
    /// </summary>
    /// <value>None: no checkpoints, except that a stopped run is saved to a temporary folder named in a warning</value>
    [Parameter]
    public string? CheckpointPath { get; set; }

    /// <summary>
    /// End with the weights of the epoch with the best test top-1 instead of the last epoch's; the output's Top1 is then
    /// that epoch's. Selecting on the test split flatters the number: report BestTop1 as such.
    /// </summary>
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
