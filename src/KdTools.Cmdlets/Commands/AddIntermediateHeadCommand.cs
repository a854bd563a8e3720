using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>Adds a trained classifier head after each stage of a trained teacher, for DIH.</summary>
/// <remarks>
/// <para>Mounts a linear classifier head after each stage of the teacher (or the stages named by -Stage) and trains
/// only the heads with cross-entropy. The backbone stays frozen in eval mode: its weights, its batch-norm statistics
/// and its own accuracy do not change.</para>
/// <para>The heads train with DIH's head recipe over 30 epochs (DIH trains its heads for 200): SGD lr 0.1 with
/// Nesterov momentum 0.9, weight decay 5e-4, ×0.2 at 30/60/90 % of the epochs, batch 64, reflect-padded crop and
/// flip. -Recipe starts from another recipe instead; explicit parameters override either.</para>
/// <para>It writes the teacher with its heads: Exits names them, ExitTop1 gives each head's test top-1. Pipe it to
/// Invoke-Distillation -Method DIH, which distills from the final classifier and every head, or to Measure-Student
/// for one row per exit.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $headed = $teacher | Add-IntermediateHead -Dataset $data -Epochs 1
/// $headed | Measure-Student -Dataset $data -NoTiming | Format-Table Exit, Top1, Loss
/// </code>
/// <para>Trains a head after each of resnet8's three stages and measures every exit: the heads, the final classifier
/// and their ensemble.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $teacher | Add-IntermediateHead -Dataset $data -Stage 2, 3 -Epochs 1 |
///     Invoke-Distillation -Student resnet8 -Method DIH -Dataset $data -Epochs 1
/// </code>
/// <para>Heads on the second and third stages only, then DIH distillation from them and the final classifier.</para>
/// </example>
[Cmdlet(VerbsCommon.Add, "IntermediateHead")]
[OutputType(typeof(KdModel))]
public sealed class AddIntermediateHeadCommand : KdTrainingCmdlet
{
    private Core.Data.KdDataset _data = null!;

    public AddIntermediateHeadCommand()
    {
        // What Get-Help shows as defaults: DIH's head recipe.
        var defaults = HeadFineTuning.DefaultSettings();
        Recipe = defaults.Recipe;
        Epochs = defaults.Epochs;
        LearningRate = defaults.LearningRate;
        Nesterov = defaults.Nesterov;
        LrMilestones = [.. defaults.Schedule.MilestoneFractions!];
        LrDecay = defaults.Schedule.Decay;
    }

    /// <summary>The trained teacher to add heads to: a model, a run (its student) or a checkpoint path. Usually piped in.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public KdModelArgument Teacher { get; set; } = null!;

    /// <summary>
    /// The dataset to train the heads on (its training split) and evaluate them on (its test split), usually the
    /// teacher's: Get-KdDataset's output or a dataset folder.
    /// </summary>
    [Parameter(Mandatory = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>The 1-based stages to mount heads on (Get-KdArchitecture's HeadPositions says how many there are).</summary>
    /// <value>every stage (3 for CIFAR ResNets and WRNs, 4 for ResNet-18/34/50 and VGG)</value>
    [Parameter]
    [ValidateRange(1, 16)]
    public int[]? Stage { get; set; }

    protected override void BeginProcessing() => _data = ResolveDataset(Dataset).Dataset;

    protected override void ProcessRecord()
    {
        var data = _data;
        // One bad teacher in the pipeline is that item's error; the others still get their heads.
        if (!TryResolveModel(Teacher.Value, "Teacher", out var teacher, out _)) return;
        var result = Train((logger, progress) => HeadFineTuning.Run(new HeadFineTuningRequest
            {
                Network = teacher.Network,
                Dataset = data,
                Stages = Stage,
                Recipe = RecipeName,
                Overrides = Overrides(),
                ResumeFrom = ResumePath,
                StartOver = Force,
                Logger = logger,
                Progress = progress,
            }, Cancellation),
            $"Training heads on {teacher.Architecture}", teacher.Architecture);
        WriteObject(new KdModel(result.Network, teacher.Role)
        {
            TrainedWith = teacher.TrainedWith,
            TrainedOn = teacher.TrainedOn,
            TrainedEpochs = teacher.TrainedEpochs,
            Recipe = teacher.Recipe,
            Top1 = teacher.Top1,
            BestTop1 = teacher.BestTop1,
            BestEpoch = teacher.BestEpoch,
            ExitTop1 = FormatScores(result.ExitTop1.Where(e => e.Key.StartsWith("head", StringComparison.Ordinal))),
            Path = result.LastCheckpoint ?? "",
        });
    }
}
