using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
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

    /// <summary>The dataset to train on: Get-KdDataset output or the path of a dataset folder.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TrainSet)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>A checkpoint written by New-Teacher -CheckpointDirectory, Save-KdModel or Invoke-Distillation. Loading belongs to
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

        var data = ResolveDataset(Dataset).Dataset;
        var architecture = Invoke(() => ArchitectureRegistry.Get(Architecture), Architecture).Name;
        var settings = BuildSettings(architecture);
        // A teacher is a network trained on the labels alone: the CE method without a teacher.
        var result = Train((logger, progress) => Distillation.Run(new DistillationRequest
        {
            Dataset = data,
            StudentArchitecture = architecture,
            MethodName = "CE",
            Settings = settings,
            StartOver = Force,
            Logger = logger,
            Progress = progress,
        }, Cancellation), $"Training teacher {architecture}", Architecture);
        WriteObject(ModelFrom(result, "Teacher", data));
    }
}
