using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Mounts a linear classifier head after each stage of a trained teacher (or the stages named by -Stage) and
/// trains only the heads with cross-entropy; the backbone stays frozen in eval mode, its weights and BN statistics
/// unchanged. Emits the teacher with its heads, ready for Invoke-Distillation -Method DIH.</para>
/// <para>Default schedule: DIH's head recipe over 30 epochs (DIH trains its heads for 200): SGD lr 0.1 with Nesterov
/// momentum 0.9, weight decay 5e-4, ×0.2 at 30/60/90 % of the epochs, batch 64, reflect-padded crop and flip.
/// -Recipe starts from another recipe instead; explicit parameters override either.</para>
/// </summary>
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
        LrDecay = defaults.Schedule.Decay;
    }

    /// <summary>The trained teacher: a model (New-Teacher, Import-KdModel), a run (its student) or a checkpoint path; from the pipeline by value.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public KdModelArgument Teacher { get; set; } = null!;

    /// <summary>The dataset the teacher was trained on: Get-KdDataset output or the path of a dataset folder.</summary>
    [Parameter(Mandatory = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>1-based stages to mount heads on; default every stage (3 for CIFAR ResNets, 4 for ResNet-18).</summary>
    [Parameter]
    [ValidateRange(1, 16)]
    public int[]? Stage { get; set; }

    /// <summary>DIH's head recipe over 30 epochs unless -Recipe names another.</summary>
    protected override TrainingSettings RecipeSettings(string studentArchitecture) =>
        IsExplicit(nameof(Recipe)) ? base.RecipeSettings(studentArchitecture) : HeadFineTuning.DefaultSettings();

    protected override void BeginProcessing() => _data = ResolveDataset(Dataset).Dataset;

    protected override void ProcessRecord()
    {
        var data = _data;
        // One bad teacher in the pipeline is that item's error; the others still get their heads.
        if (!TryResolveModel(Teacher.Value, "Teacher", out var teacher, out _)) return;
        var settings = BuildSettings(teacher.Architecture);
        var result = Train((logger, progress) => HeadFineTuning.Run(teacher.Network, Stage, data, settings, logger, progress, Cancellation, Force),
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
