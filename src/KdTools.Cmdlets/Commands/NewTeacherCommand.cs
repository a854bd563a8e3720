using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>Trains a teacher network from the labels, or loads one from a checkpoint.</summary>
/// <remarks>
/// <para>With -Architecture and -Dataset, New-Teacher builds a fresh network and trains it with cross-entropy, SGD
/// and a multistep learning-rate schedule (defaults: the CIFAR KD benchmark's lr 0.05, momentum 0.9, weight decay
/// 5e-4, batch 64, rate x0.1 at 62.5, 75 and 87.5 % of the epochs), evaluating on the test split after every epoch.
/// -Verbose shows each epoch; a progress bar shows epochs and batches; Ctrl+C stops at the next batch and saves a
/// resumable checkpoint.</para>
/// <para>With -Path, it loads a model saved by Save-KdModel, -CheckpointPath or Invoke-Distillation instead; the file
/// is a safetensors checkpoint and loading it never runs code.</para>
/// <para>The teacher it writes feeds Invoke-Distillation (through the pipeline or -Teacher), Add-IntermediateHead and
/// Measure-Student.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher -Architecture resnet14 -Dataset $data -Epochs 1
/// $teacher
/// </code>
/// <para>Trains a resnet14 teacher for one epoch (seconds; a teacher worth distilling takes tens of epochs) and shows
/// its test top-1.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 1 -CheckpointPath ./teacher-run | Out-Null
/// $teacher = New-Teacher -Path ./teacher-run/best.safetensors
/// $teacher.TrainedEpochs
/// </code>
/// <para>Trains with checkpoints in ./teacher-run, then loads the best epoch's weights back from the file, as a later
/// session would.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 3 -LearningRate 0.1 -LrMilestones 1, 2 -Nesterov -Seed 5 -Verbose
/// </code>
/// <para>A custom schedule: lr 0.1 with Nesterov momentum, divided by ten after epochs 1 and 2, with the per-epoch log
/// on the verbose stream.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "Teacher", DefaultParameterSetName = TrainSet)]
[OutputType(typeof(KdModel))]
public sealed class NewTeacherCommand : KdTrainingCmdlet
{
    private const string TrainSet = "Train";
    private const string LoadSet = "Load";

    /// <summary>The architecture to train (Get-KdArchitecture lists them), e.g. resnet56.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TrainSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string Architecture { get; set; } = "";

    /// <summary>
    /// The dataset to train on (its training split) and evaluate on (its test split): Get-KdDataset's output or a
    /// dataset folder.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = TrainSet)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>
    /// A checkpoint to load instead of training: a .safetensors file written by Save-KdModel or by -CheckpointPath
    /// (last.safetensors, best.safetensors). Its architecture, class count and normalisation come from the file.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = LoadSet, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        if (ParameterSetName == LoadSet)
        {
            var full = ResolvePath(Path);
            WriteObject(Invoke(() => ModelLoading.Load(full, "Teacher"), Path));
            return;
        }

        var settings = BuildSettings();
        var data = Dataset.Dataset;
        var network = Invoke(() => ArchitectureRegistry.Create(Architecture, data.Classes, Seed), Architecture);
        using var method = MethodRegistry.Create("CE");
        var result = Train(settings, new TrainingJob { Student = network, Method = method, Dataset = data },
            $"Training teacher {network.Architecture}");
        if (result.Cancelled) throw new PipelineStoppedException();
        WriteObject(new KdModel(network, "Teacher", data.Mean, data.Std)
        {
            TrainedWith = method.Name,
            TrainedOn = data.Name,
            TrainedEpochs = result.EpochsCompleted,
            Top1 = UseBest ? result.BestTop1 : result.LastTop1,
            BestTop1 = result.BestTop1,
            BestEpoch = result.BestEpoch,
            Path = result.LastCheckpoint ?? "",
        });
    }
}
