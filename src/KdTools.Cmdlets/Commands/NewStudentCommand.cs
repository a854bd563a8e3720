using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Models;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Creates an untrained network to distill into (Invoke-Distillation also accepts a plain architecture name).</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "Student", DefaultParameterSetName = DatasetSet)]
[OutputType(typeof(KdModel))]
public sealed class NewStudentCommand : KdCmdlet
{
    private const string DatasetSet = "Dataset";
    private const string ClassesSet = "Classes";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string Architecture { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = DatasetSet)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = ClassesSet)]
    [ValidateRange(2, 100_000)]
    public int Classes { get; set; }

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
