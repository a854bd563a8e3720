using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using KdTools.Core;
using KdTools.Core.Data;
using KdTools.Core.Sweeps;
using KdTools.Core.Training;
using Microsoft.Extensions.Logging;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>
/// The parameters and plumbing shared by the cmdlets that train (New-Teacher, Invoke-Distillation,
/// Add-IntermediateHead): settings resolved from a recipe with the explicitly given parameters on top, the progress
/// and log bridge, and one call into Core.
/// </summary>
public abstract class KdTrainingCmdlet : KdCmdlet
{
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

    /// <summary>
    /// The training recipe (Get-KdRecipe lists them: Default, RepDistiller, DIH, TOFD, BYOT, FT, TAKD, SKD) whose
    /// settings the run starts from: epochs, learning rate and schedule, momentum, Nesterov, weight decay, batch size and
    /// augmentation. Parameters given explicitly override its values; the run records the recipe. Without it the run
    /// uses the Default recipe of the dataset's task (segmentation: SKD's optimizer, poly schedule, batch 8 and scale
    /// augmentation over 10 epochs) and of the student (lr 0.01 for MobileNetV2, ShuffleV1 and ShuffleV2).
    /// </summary>
    [Parameter]
    [ArgumentCompleter(typeof(RecipeCompleter))]
    public string Recipe { get; set; } = TrainingRecipes.DefaultName;

    /// <summary>
    /// Main-stage epochs (full passes over the training split). A recipe's milestones are fractions of the epochs, so
    /// they move with them. A method's pre-stages (FitNet's hints, FT's paraphraser, ...) take their epochs from its
    /// options.
    /// </summary>
    /// <value>{default}, the default recipe's; another -Recipe or task brings its own (Get-KdRecipe)</value>
    [Parameter]
    [ValidateRange(0, 100_000)]
    public int Epochs { get; set; } = 10;

    /// <summary>Training images per SGD step. A smaller batch needs less memory; scale -LearningRate with it.</summary>
    /// <value>{default}, the default recipe's; another -Recipe or task brings its own (Get-KdRecipe)</value>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 64;

    /// <summary>SGD's base learning rate of the main stage, moved by -LrSchedule.</summary>
    /// <value>
    /// {default}, the default recipe's; a training cmdlet's default for a lightweight student (MobileNetV2, ShuffleV1,
    /// ShuffleV2) and on a segmentation dataset is 0.01; another -Recipe brings its own (Get-KdRecipe)
    /// </value>
    [Parameter]
    [ValidateRange(1e-8, 100.0)]
    public double LearningRate { get; set; } = 0.05;

    /// <summary>SGD momentum, 0 to 0.999 (0 turns momentum off).</summary>
    /// <value>{default}, the default recipe's; another -Recipe or task brings its own (Get-KdRecipe)</value>
    [Parameter]
    [ValidateRange(0.0, 0.999)]
    public double Momentum { get; set; } = 0.9;

    /// <summary>
    /// Use Nesterov momentum instead of classical momentum (needs -Momentum above 0). -Nesterov:$false turns off a
    /// recipe's Nesterov.
    /// </summary>
    /// <value>{default}, the default recipe's; another -Recipe or task brings its own (Get-KdRecipe)</value>
    [Parameter]
    public SwitchParameter Nesterov { get; set; }

    /// <summary>L2 weight decay SGD applies to every trained weight (0 turns it off).</summary>
    /// <value>{default}, the default recipe's; another -Recipe or task brings its own (Get-KdRecipe)</value>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double WeightDecay { get; set; } = 5e-4;

    /// <summary>
    /// How the main stage's learning rate moves: MultiStep (multiplied by -LrDecay at each of -LrMilestones),
    /// Constant, or Poly (base × (1 − step/steps)^0.9, updated every step). Pre-stages run at a constant rate.
    /// </summary>
    /// <value>{default}, the recipe's (Poly for SKD's and the segmentation Default)</value>
    [Parameter]
    public LearningRateScheduleKind LrSchedule { get; set; } = LearningRateScheduleKind.MultiStep;

    /// <summary>
    /// The multistep schedule's milestones: epochs after which the learning rate is multiplied by -LrDecay (150, 180,
    /// 210 for 240 epochs), or fractions of -Epochs (0.5, 0.75), which keep their place when the epochs change.
    /// </summary>
    /// <value>
    /// {default} of -Epochs, the default recipe's; another -Recipe brings its own (Get-KdRecipe's Milestones)
    /// </value>
    [Parameter]
    public double[]? LrMilestones { get; set; } = [.. new TrainingSettings().Schedule.MilestoneFractions!];

    /// <summary>The factor the learning rate is multiplied by at each of -LrMilestones.</summary>
    /// <value>{default}, the default recipe's; another -Recipe or task brings its own (Get-KdRecipe)</value>
    [Parameter]
    [ValidateRange(1e-6, 1.0)]
    public double LrDecay { get; set; } = 0.1;

    /// <summary>
    /// Seeds the initial weights (the student's and the method's modules), the shuffling, the augmentation and every
    /// random draw of a step: the same seed and settings give the same run bit for bit, alone or in parallel. Change
    /// it to see how much a result varies from run to run.
    /// </summary>
    [Parameter]
    public long Seed { get; set; } = 1;

    /// <summary>Where to train: cpu, cuda or cuda:N (CUDA needs the cuda-windows build of the module, see README).</summary>
    [Parameter]
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// libtorch's intra-op CPU threads. Process-wide: it applies to every run in the PowerShell process (all runspaces,
    /// ForEach-Object -Parallel included) from the moment it is set, and stays for later commands. A run alone: leave it
    /// unset (one thread per core). Runs in parallel: give every run the same value, the cores divided by the number
    /// of runs at once and at least 1 (-Threads 1 for as many runs as cores, in one process or several): threads beyond
    /// the cores spin and wait for each other (measured on 2 cores: two processes of 2 threads each ran up to 10 times
    /// slower than with 1 thread each). The same value for every run also keeps parallel results bit-identical to the
    /// same runs alone.
    /// </summary>
    /// <value>not set: libtorch's default, one thread per core (or the last -Threads given in this session)</value>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int? Threads { get; set; }

    /// <summary>
    /// Train on the images as they are, without the recipe's augmentation (the Default recipe's: random crops with 4
    /// pixels of zero padding and horizontal flips; Get-KdRecipe's Augmentation column has each recipe's; on a
    /// segmentation dataset, the random scale 0.5–2.0, crop and flip of images and label maps). A classification run
    /// with a teacher then computes the teacher's outputs once per training image and reuses them in every later epoch
    /// (for the methods that name what they read of the teacher: KD, DKD, DIST, TAKD, CRD, PKT, RKD), up to 1 GiB of
    /// kept outputs; the results match recomputed outputs to float rounding.
    /// </summary>
    /// <value>False: training batches are augmented as the recipe says</value>
    [Parameter]
    public SwitchParameter NoAugment { get; set; }

    /// <summary>
    /// Folder for the run's checkpoints, named after the run (method, student, seed, start time):
    /// &lt;run&gt;-last.safetensors (resumable with Invoke-Distillation -Resume; written before the first step, after
    /// every epoch and when Ctrl+C stops the run) and &lt;run&gt;-best.safetensors (the best epoch's model). Runs
    /// sharing the folder never touch each other's files. Created when missing; it must take a checkpoint before
    /// training starts (else KdTools.Checkpoint.WriteFailed); a write that fails later is a non-terminating
    /// KdTools.Checkpoint.WriteFailed error after the run, which still returns its trained model.
    /// </summary>
    /// <value>None: no checkpoints, except that a stopped run is saved to the temp folder's kdtools/checkpoints, named in a warning</value>
    [Parameter]
    [Alias("CheckpointPath")]
    public string? CheckpointDirectory { get; set; }

    /// <summary>
    /// Start a new run even when -CheckpointDirectory holds an unfinished run (stopped, crashed or still running) of
    /// the same configuration; without it such a run is refused with KdTools.Checkpoint.Unfinished, which names the
    /// checkpoint to continue with -Resume. The new run writes its own files beside the old ones.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// A resumable checkpoint (&lt;run&gt;-last.safetensors, named in the warning of a stopped run) of an interrupted
    /// run of this cmdlet: training continues from where it stopped, keeps writing to that checkpoint, and ends as the
    /// uninterrupted run would have. The run must be the same: the same networks, method and options, settings, seed,
    /// dataset contents and teacher (or, for Add-IntermediateHead, model) weights; any difference is refused with a
    /// KdTools.Checkpoint.Mismatch error that lists them.
    /// </summary>
    [Parameter]
    public string? Resume { get; set; }

    /// <summary>The resumable checkpoint to continue from, resolved against PowerShell's location; null for a new run.</summary>
    protected string? ResumePath => Resume is null ? null : ResolvePath(Resume);

    /// <summary>
    /// End with the weights of the epoch with the best test top-1 instead of the last epoch's; every accuracy of the
    /// run is then that epoch's. Selecting on the test split flatters the number: report it as such.
    /// Add-IntermediateHead ignores it: its heads are always the last epoch's.
    /// </summary>
    [Parameter]
    public SwitchParameter UseBest { get; set; }

    /// <summary>Parameters given on the command line or from the pipeline (a plan row's cells are Core's, <see cref="Core.Sweeps.PlanRow"/>).</summary>
    protected bool IsExplicit(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);

    /// <summary>The recipe named on the command line; null lets Core choose the task's default.</summary>
    protected string? RecipeName => IsExplicit(nameof(Recipe)) ? Recipe : null;

    /// <summary>The settings given explicitly (command line or pipeline), for Core to put on top of the recipe.</summary>
    protected TrainingOverrides Overrides() => new()
    {
        Epochs = IsExplicit(nameof(Epochs)) ? Epochs : null,
        BatchSize = IsExplicit(nameof(BatchSize)) ? BatchSize : null,
        LearningRate = IsExplicit(nameof(LearningRate)) ? LearningRate : null,
        Momentum = IsExplicit(nameof(Momentum)) ? Momentum : null,
        Nesterov = IsExplicit(nameof(Nesterov)) ? Nesterov.IsPresent : null,
        WeightDecay = IsExplicit(nameof(WeightDecay)) ? WeightDecay : null,
        LrSchedule = IsExplicit(nameof(LrSchedule)) ? LrSchedule : null,
        LrMilestones = IsExplicit(nameof(LrMilestones)) ? LrMilestones ?? [] : null,
        LrDecay = IsExplicit(nameof(LrDecay)) ? LrDecay : null,
        NoAugment = IsExplicit(nameof(NoAugment)) && NoAugment.IsPresent,
        Seed = Seed,
        Device = Device,
        Threads = Threads,
        CheckpointDirectory = CheckpointDirectory is null ? null : ResolvePath(CheckpointDirectory),
        KeepBestWeights = UseBest.IsPresent,
    };

    /// <summary>
    /// Runs Core with Write-Progress (epoch parent, batch child, throttled) and the log bridge. A stopped run names its
    /// resumable checkpoint on the host (the pipeline's streams are closed by then) and stops the pipeline; a run whose
    /// checkpoint writes failed reports that as a non-terminating error after it completes.
    /// </summary>
    /// <param name="run">Calls Core with the logger and progress callback it is given.</param>
    protected DistillationResult Train(Func<ILogger, Action<TrainingProgress>, DistillationResult> run, string activity, object? target)
    {
        DistillationResult result;
        try
        {
            result = Invoke(() => run(CreateLogger(), p => ReportProgress(activity, p)), target);
        }
        finally
        {
            CompleteProgress(activity);
        }
        return Finished(result, target);
    }

    /// <summary>
    /// Runs one row of a sweep against its ledger (Core's <see cref="Sweep"/> decides: skip, resume or run) with the same
    /// progress and log bridge as <see cref="Train"/>. The row's failure is in the outcome, for a non-terminating error;
    /// a ledger that cannot be read or written stops the cmdlet.
    /// </summary>
    protected SweepOutcome TrainRow(SweepLedger ledger, DistillationRequest request, string activity, object? target)
    {
        SweepOutcome outcome;
        try
        {
            outcome = Invoke(() => Sweep.Run(ledger, request with { Logger = CreateLogger(), Progress = p => ReportProgress(activity, p) }, Cancellation), target);
        }
        finally
        {
            CompleteProgress(activity);
        }
        if (outcome.Result is { } result) Finished(result, target);
        return outcome;
    }

    /// <summary>A stopped run stops the pipeline (naming its checkpoint); a failed checkpoint write is reported.</summary>
    private DistillationResult Finished(DistillationResult result, object? target)
    {
        if (result.Cancelled)
        {
            AnnounceStop(result);
            throw new PipelineStoppedException();
        }
        if (result.CheckpointFailure is { } failure)
            WriteError(ErrorRecords.From(new KdException(failure.ErrorId, failure.Kind,
                $"{failure.Message}. The run completed and its trained model is returned: save it with Save-KdModel, or give " +
                "-CheckpointDirectory a folder with room to write", failure.Target, failure), target));
        return result;
    }

    /// <summary>
    /// Tells the user where the stopped run's resumable checkpoint is. Once a pipeline stops, every cmdlet stream
    /// throws, so the line goes to the host's console directly (a host without a console, such as a hosted runspace,
    /// shows nothing: the checkpoint is then found in the run's folder, or in the temp folder's kdtools/checkpoints).
    /// </summary>
    private void AnnounceStop(DistillationResult result)
    {
        var message = result.LastCheckpoint is { } path
            ? $"Stopped; the run's resumable checkpoint is '{path}': continue it with the same command and -Resume '{path}'"
            : "Stopped; no resumable checkpoint could be written" + (result.CheckpointFailure is { } failure ? $" ({failure.Message})" : "");
        try
        {
            WriteWarning(message);
        }
        catch (PipelineStoppedException)
        {
            Host?.UI?.WriteWarningLine(message);
        }
    }

    /// <summary>The trained network as a model object, with its provenance and the reported epoch's accuracies.</summary>
    protected static KdModel ModelFrom(DistillationResult result, string role, KdDataset data) => new(result.Network, role)
    {
        TrainedWith = result.Method,
        TrainedOn = data.Name,
        TrainedEpochs = result.EpochsCompleted,
        Recipe = result.Recipe,
        Top1 = result.Top1,
        BestTop1 = result.BestTop1,
        BestEpoch = result.BestEpoch,
        ExitTop1 = FormatScores(result.ExitTop1),
        Path = result.LastCheckpoint ?? "",
    };

    /// <summary>"head1=0.41;head2=0.57" (culture-invariant).</summary>
    protected static string FormatScores(IEnumerable<KeyValuePair<string, double>> scores) =>
        string.Join(";", scores.Select(e => $"{e.Key}={e.Value.ToString("G4", CultureInfo.InvariantCulture)}"));

    private void CompleteProgress(string activity)
    {
        try
        {
            FlushLog();
            WriteProgress(new ProgressRecord(2, "Batches", "done") { ParentActivityId = 1, RecordType = ProgressRecordType.Completed });
            WriteProgress(new ProgressRecord(1, activity, "done") { RecordType = ProgressRecordType.Completed });
        }
        catch (PipelineStoppedException)
        {
            // Stopping: nothing more can be written, and the stop is what the caller reports.
        }
    }

    private void ReportProgress(string activity, TrainingProgress p)
    {
        bool epochEnd = p.Batch == p.Batches;
        if (!epochEnd && _sinceProgress.ElapsedMilliseconds < 250) return;
        _sinceProgress.Restart();
        try
        {
            FlushLog();
            var stage = p.Run.Length > 0 ? $"{p.Run}: {p.Stage}" : p.Stage;
            WriteProgress(new ProgressRecord(1, activity, $"{stage} epoch {p.Epoch}/{p.Epochs}")
            {
                PercentComplete = (int)Math.Clamp(p.Fraction * 100, 0, 100),
            });
            WriteProgress(new ProgressRecord(2, "Batches", $"batch {p.Batch}/{p.Batches}, loss {p.RunningLoss:F4}, lr {p.LearningRate:G3}")
            {
                ParentActivityId = 1,
                PercentComplete = (int)(100.0 * p.Batch / Math.Max(1, p.Batches)),
            });
        }
        catch (PipelineStoppedException)
        {
            // A stop makes every write throw, possibly before PowerShell has called StopProcessing: cancel here, so the
            // engine sees the stop at the next batch boundary, where it writes the resumable checkpoint.
            CancelForStop();
        }
    }
}
