using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Reporting;

namespace KdTools.Cmdlets.Commands;

/// <summary>What Export-KdPlot draws.</summary>
public enum KdPlotKind
{
    /// <summary>Learning curves of runs (Invoke-Distillation output), one panel per -Metric.</summary>
    Line,

    /// <summary>
    /// Test top-1 (mean IoU for segmentation) of measured students (Measure-Student output) as bars; teachers' rows as
    /// horizontal lines.
    /// </summary>
    Bar,
}

/// <summary>Draws learning curves of runs, or a sweep's accuracies, into a PNG file.</summary>
/// <remarks>
/// <para>-Kind Line (the default) draws runs from Invoke-Distillation: one panel per -Metric (test top-1 and training
/// loss unless told), one line per run in the same colour on every panel, its method and student in the legend.
/// Pre-stages (FitNet's hint stage, FT's paraphraser…) come before epoch 1, dashed, over a grey band named in the
/// legend.</para>
/// <para>-Kind Bar draws Measure-Student rows: one bar per student row with its test top-1 (its mean IoU for
/// segmentation measurements, which cannot be mixed with classification ones in one chart), and each teacher row
/// (Role Teacher) as a dashed horizontal line.</para>
/// <para>Rendering needs no display. The file is written once every input has arrived, atomically, its folder created
/// when missing; an existing file needs -Force, and that is checked before the commands upstream start their work. An
/// input that cannot be drawn is a non-terminating error; the others are still drawn.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $runs = 'KD', 'CE' | ForEach-Object { $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs 2 }
/// $runs | Export-KdPlot -Path curves.png
/// </code>
/// <para>Test top-1 and training loss per epoch of a KD student and its CE baseline, side by side.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $run = $teacher | Invoke-Distillation -Student resnet8 -Method FitNet -MethodOption @{ HintEpochs = 1 } -Dataset $data -Epochs 2
/// $run | Export-KdPlot -Path fitnet.png -Metric TrainLoss, LearningRate -Width 1200 -Height 400
/// </code>
/// <para>FitNet's hint stage and main training: the loss and the learning rate of every epoch.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $runs = 'KD', 'CE' | ForEach-Object { $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs 1 }
/// @($teacher) + $runs | Measure-Student -Dataset $data -NoTiming | Export-KdPlot -Path sweep.png -Kind Bar
/// </code>
/// <para>One bar per method, the teacher's top-1 as a line across them.</para>
/// </example>
/// <returns>With -PassThru, the PNG file written; nothing otherwise.</returns>
[Cmdlet(VerbsData.Export, "KdPlot", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportKdPlotCommand : KdCmdlet
{
    private readonly List<KdRun> _runs = [];
    private readonly List<KdMeasurement> _measurements = [];
    private readonly List<KdSegmentationMeasurement> _segmentation = [];
    private string _target = "";

    /// <summary>Runs (Invoke-Distillation) for -Kind Line; measurements (Measure-Student) for -Kind Bar.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public object InputObject { get; set; } = null!;

    /// <summary>The PNG file to write; its folder is created when missing.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    /// <summary>Line (learning curves of runs, the default) or Bar (top-1 of measurements).</summary>
    [Parameter]
    public KdPlotKind Kind { get; set; } = KdPlotKind.Line;

    /// <summary>The per-epoch quantities drawn by -Kind Line, one panel each: TestTop1, TrainLoss (the default), TestLoss,
    /// TrainTop1, LearningRate.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public CurveMetric[] Metric { get; set; } = [CurveMetric.TestTop1, CurveMetric.TrainLoss];

    /// <summary>Width of the image in pixels.</summary>
    [Parameter]
    [ValidateRange(200, 10_000)]
    public int Width { get; set; } = 1000;

    /// <summary>Height of the image in pixels.</summary>
    [Parameter]
    [ValidateRange(150, 10_000)]
    public int Height { get; set; } = 450;

    /// <summary>Replace the file when it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Emit the written file.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        _target = ResolvePath(Path);
        if (Kind == KdPlotKind.Bar && MyInvocation.BoundParameters.ContainsKey(nameof(Metric)))
            Fail(KdErrorIds.PlotInputInvalid, KdErrorKind.InvalidArgument,
                "-Metric picks learning curves (-Kind Line); a bar chart always shows test top-1", Metric);
        // Before upstream cmdlets do any work: a pipeline that would train for an hour fails now, not at the end.
        FailIfExists();
    }

    protected override void ProcessRecord()
    {
        var input = InputObject is PSObject ps ? ps.BaseObject : InputObject;
        switch (Kind, input)
        {
            case (KdPlotKind.Line, KdRun run) when run.History.Count > 0:
                _runs.Add(run);
                break;
            case (KdPlotKind.Line, KdRun run):
                WriteKdError(KdErrorIds.PlotInputInvalid, KdErrorKind.InvalidData, $"run '{run}' has no epochs to draw", run);
                break;
            case (KdPlotKind.Bar, KdMeasurement measurement) when _segmentation.Count == 0:
                _measurements.Add(measurement);
                break;
            case (KdPlotKind.Bar, KdSegmentationMeasurement measurement) when _measurements.Count == 0:
                _segmentation.Add(measurement);
                break;
            case (KdPlotKind.Bar, KdMeasurement or KdSegmentationMeasurement):
                WriteKdError(KdErrorIds.PlotInputInvalid, KdErrorKind.InvalidArgument,
                    "one bar chart compares one task: classification rows (top-1) and segmentation rows (mIoU) go into separate plots", input);
                break;
            default:
                WriteKdError(KdErrorIds.PlotInputInvalid, KdErrorKind.InvalidArgument, Kind == KdPlotKind.Line
                    ? $"-Kind Line draws runs (Invoke-Distillation output), not {Describe(input)}; draw Measure-Student rows with -Kind Bar"
                    : $"-Kind Bar draws Measure-Student rows, not {Describe(input)}; draw runs with -Kind Line", input);
                break;
        }
    }

    protected override void EndProcessing()
    {
        var png = Kind == KdPlotKind.Line
            ? Invoke(() => LearningCurveChart.RenderPng(Curves(), Metric, Width, Height))
            : _segmentation.Count > 0
            ? Invoke(() => AccuracyBarChart.RenderPng(
                _segmentation.Where(m => m.Role != "Teacher").Select(m => new AccuracyEntry(m.Method.Length > 0 ? m.Method : m.Model, m.MeanIoU)).ToList(),
                _segmentation.Where(m => m.Role == "Teacher").Select(m => new AccuracyEntry($"teacher {m.Model}", m.MeanIoU)).ToList(),
                Width, Height, "mIoU"))
            : Invoke(() => AccuracyBarChart.RenderPng(
                _measurements.Where(m => m.Role != "Teacher").Select(m => new AccuracyEntry(BarLabel(m), m.Top1)).ToList(),
                _measurements.Where(m => m.Role == "Teacher").Select(m => new AccuracyEntry($"teacher {m.Model}", m.Top1)).ToList(),
                Width, Height));
        if (!ShouldProcess(_target, $"Write a {Width}x{Height} {Kind.ToString().ToLowerInvariant()} plot")) return;
        FailIfExists();
        Invoke(() => PngFile.Write(_target, png), _target);
        if (PassThru) WriteObject(InvokeProvider.Item.Get(_target), enumerateCollection: true);
    }

    private void FailIfExists()
    {
        if (File.Exists(_target) && !Force)
            Fail(KdErrorIds.PlotExists, KdErrorKind.InvalidOperation, $"'{_target}' already exists; pass -Force to overwrite it", _target);
    }

    /// <summary>The runs' curves, labelled "method student"; runs that would share a label are told apart by seed or number.</summary>
    private List<CurveRun> Curves()
    {
        var labels = _runs.Select(r => $"{r.Method} {r.Student}").ToList();
        return _runs.Select((run, i) =>
        {
            var twins = Enumerable.Range(0, _runs.Count).Where(j => labels[j] == labels[i]).ToList();
            var label = twins.Count == 1 ? labels[i]
                : twins.Select(j => _runs[j].Seed).Distinct().Count() == twins.Count ? $"{labels[i]} seed {run.Seed}"
                : $"{labels[i]} #{twins.IndexOf(i) + 1}";
            return new CurveRun(label, run.History.Select(e =>
                new CurveEpoch(e.Stage, e.Epoch, e.TestTop1, e.TrainLoss, e.TestLoss, e.TrainTop1, e.LearningRate)).ToList());
        }).ToList();
    }

    /// <summary>The method; the model too when the rows compare several, and the exit when it is not the final classifier.</summary>
    private string BarLabel(KdMeasurement row)
    {
        var students = _measurements.Where(m => m.Role != "Teacher").ToList();
        var label = row.Method.Length > 0 ? row.Method : row.Model;
        if (students.Select(m => m.Model).Distinct().Count() > 1 && row.Method.Length > 0) label += $" {row.Model}";
        if (row.Exit != Core.Evaluation.ExitNames.Final) label += $" [{row.Exit}]";
        return label;
    }

    private static string Describe(object? value) => value is null ? "nothing" : $"a {value.GetType().Name}";
}
