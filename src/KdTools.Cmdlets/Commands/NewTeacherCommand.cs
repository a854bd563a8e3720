using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Trains a teacher from the labels (cross-entropy), or loads one from a checkpoint (-Path).</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "Teacher", DefaultParameterSetName = TrainSet)]
[OutputType(typeof(KdModel))]
public sealed class NewTeacherCommand : KdTrainingCmdlet
{
    private const string TrainSet = "Train";
    private const string LoadSet = "Load";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TrainSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string Architecture { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = TrainSet)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>A checkpoint written by New-Teacher/-CheckpointPath, Save-KdModel or Invoke-Distillation. Loading belongs to
    /// Import-KdModel (which also reads PyTorch state dicts); use it instead.</summary>
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
