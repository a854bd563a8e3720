using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Mounts a linear classifier head after each stage of a trained teacher (or the stages named by -Stage) and
/// trains only the heads with cross-entropy; the backbone stays frozen in eval mode, its weights and BN statistics
/// unchanged. Emits the teacher with its heads, ready for Invoke-Distillation -Method DIH.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "IntermediateHead")]
[OutputType(typeof(KdModel))]
public sealed class AddIntermediateHeadCommand : KdTrainingCmdlet
{
    public AddIntermediateHeadCommand()
    {
        // DIH's head fine-tuning recipe: lr 0.1 (momentum and weight decay as for training).
        LearningRate = HeadFineTuning.DefaultSettings(1).LearningRate;
        Epochs = 30;
    }

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [KdModelTransformation("Teacher")]
    public KdModel Teacher { get; set; } = null!;

    [Parameter(Mandatory = true)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>1-based stages to mount heads on; default every stage (3 for CIFAR ResNets, 4 for ResNet-18).</summary>
    [Parameter]
    [ValidateRange(1, 16)]
    public int[]? Stage { get; set; }

    protected override void ProcessRecord()
    {
        var data = Dataset.Dataset;
        var settings = BuildSettings();
        var teacher = Teacher.Network;
        var activity = $"Training heads on {teacher.Architecture}";
        var (model, result) = Invoke(() =>
            HeadFineTuning.Run(teacher, Stage, data, settings, CreateLogger(), p => ReportProgress(activity, p), Cancellation));
        CompleteProgress(activity);
        if (result.Cancelled) throw new PipelineStoppedException();
        var last = result.TrainEpochs.LastOrDefault();
        WriteObject(new KdModel(model, Teacher.Role, Teacher.Mean ?? data.Mean, Teacher.Std ?? data.Std)
        {
            TrainedWith = Teacher.TrainedWith,
            TrainedOn = Teacher.TrainedOn,
            TrainedEpochs = Teacher.TrainedEpochs,
            Top1 = Teacher.Top1,
            BestTop1 = Teacher.BestTop1,
            BestEpoch = Teacher.BestEpoch,
            ExitTop1 = last is null ? "" : string.Join(";", last.ExitTop1.Where(e => e.Key.StartsWith("head", StringComparison.Ordinal))
                .Select(e => $"{e.Key}={e.Value.ToString("G4", CultureInfo.InvariantCulture)}")),
            Path = result.LastCheckpoint ?? "",
        });
    }
}
