using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Models;

namespace KdTools.Cmdlets.Commands;

/// <summary>Creates an untrained network to distill into.</summary>
/// <remarks>
/// <para>The network has -Architecture's layout, the dataset's class count (or -Classes) and weights initialised from
/// -Seed. Invoke-Distillation -Student takes it and trains a copy, so the same initial student can seed every run of a
/// sweep. Invoke-Distillation also takes a plain architecture name, which creates the student with the run's -Seed:
/// New-Student is for when you want to hold, inspect or reuse the untrained network.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Student resnet8 -Dataset $data
/// </code>
/// <para>An untrained resnet8 with 4 outputs, one per class of the dataset.</para>
/// </example>
/// <example>
/// <code>
/// New-Student -Architecture resnet20 -Classes 100 -Seed 7 | Select-Object Architecture, Classes, Parameters
/// </code>
/// <para>A resnet20 for a 100-class problem (CIFAR-100), initialised from seed 7, and its parameter count.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $student = New-Student resnet8 -Dataset $data -Seed 3
/// 'KD', 'CE' | ForEach-Object { $teacher | Invoke-Distillation -Student $student -Method $_ -Dataset $data -Epochs 1 }
/// </code>
/// <para>Two runs from the same initial student: distilled (KD) and trained alone (CE).</para>
/// </example>
[Cmdlet(VerbsCommon.New, "Student", DefaultParameterSetName = DatasetSet)]
[OutputType(typeof(KdModel))]
public sealed class NewStudentCommand : KdCmdlet
{
    private const string DatasetSet = "Dataset";
    private const string ClassesSet = "Classes";

    /// <summary>The architecture's name (Get-KdArchitecture lists them), e.g. resnet8.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string Architecture { get; set; } = "";

    /// <summary>
    /// The dataset the student is for: Get-KdDataset's output or a dataset folder. Gives the class count and the
    /// normalisation the student will be measured with.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = DatasetSet)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>Number of outputs (classes), instead of taking it from -Dataset.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ClassesSet)]
    [ValidateRange(2, 100_000)]
    public int Classes { get; set; }

    /// <summary>Seed of the weight initialisation: the same seed gives the same initial network.</summary>
    [Parameter]
    public long Seed { get; set; } = 1;

    private KdDatasetInfo? _dataset;

    protected override void BeginProcessing() => _dataset = ParameterSetName == DatasetSet ? ResolveDataset(Dataset) : null;

    protected override void ProcessRecord()
    {
        int classes = _dataset?.Classes ?? Classes;
        var network = Invoke(() => ArchitectureRegistry.Create(Architecture, classes, Seed), Architecture);
        // A student made for a dataset will be trained on its statistics.
        if (_dataset is not null) network.Normalization = _dataset.Dataset.Normalization;
        WriteObject(new KdModel(network, "Student"));
    }
}
