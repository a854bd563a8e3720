using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Evaluation;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Measures a model on a dataset's test split: top-1, top-5, loss, agreement with the teacher, size, latency
/// per image and images per second. Takes models (New-Teacher, New-Student), runs (Invoke-Distillation; their
/// teacher is used for agreement) or checkpoint paths from the pipeline. Emits one row per exit.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "Student")]
[OutputType(typeof(KdMeasurement))]
public sealed class MeasureStudentCommand : KdCmdlet
{
    /// <summary>A KdModel, a KdRun or a checkpoint path.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [Alias("Student", "Model")]
    public object InputObject { get; set; } = null!;

    [Parameter(Mandatory = true)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>Teacher for the agreement column; defaults to the run's teacher when a run is piped in.</summary>
    [Parameter]
    [KdModelTransformation("Teacher")]
    public KdModel? Teacher { get; set; }

    [Parameter]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Batch size of the throughput measurement.</summary>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int ThroughputBatchSize { get; set; } = 64;

    /// <summary>Skip the latency and throughput timing (they take a few seconds per model).</summary>
    [Parameter]
    public SwitchParameter NoTiming { get; set; }

    [Parameter]
    public string Device { get; set; } = "cpu";

    protected override void ProcessRecord()
    {
        var input = InputObject is PSObject ps ? ps.BaseObject : InputObject;
        var run = input as KdRun;
        var model = input switch
        {
            KdRun r => r.StudentModel,
            KdModel m => m,
            string path => Invoke(() => ModelLoading.Load(ResolvePath(path), "Student"), path),
            _ => throw new PSArgumentException(
                $"Measure-Student takes a model, a run or a checkpoint path, not {input?.GetType().Name ?? "null"}", nameof(InputObject)),
        };
        var teacher = Teacher ?? run?.TeacherModel;
        var data = Dataset.Dataset;
        if (model.Classes != data.Classes)
            Fail(Core.KdErrorIds.ClassCountMismatch, Core.KdErrorKind.InvalidArgument,
                $"{model.Architecture} has {model.Classes} classes but dataset '{data.Name}' has {data.Classes}; measure it on the dataset it was trained for");

        var device = Invoke(() => Devices.Resolve(Device));
        model.Network.to(device);
        teacher?.Network.to(device);
        var exits = Invoke(() => Evaluator.EvaluateExits(model.Network, data.Test, data.Normalization, device, BatchSize,
            teacher?.Network, Cancellation));
        var speed = NoTiming ? null
            : Invoke(() => LatencyMeter.Measure(model.Network, data.Channels, data.Height, data.Width, device, ThroughputBatchSize));
        foreach (var (exit, result) in exits)
        {
            WriteObject(new KdMeasurement
            {
                Model = model.Architecture,
                Role = model.Role,
                Method = run?.Method ?? model.TrainedWith,
                Teacher = teacher?.Architecture ?? "",
                Exit = exit,
                Dataset = data.Name,
                Count = result.Count,
                Top1 = result.Top1,
                Top5 = result.Top5,
                Loss = result.Loss,
                TeacherAgreement = result.TeacherAgreement,
                Parameters = model.Parameters,
                LatencyMs = speed?.MillisecondsPerImage ?? double.NaN,
                ImagesPerSecond = speed?.ImagesPerSecond ?? double.NaN,
                BestTop1 = run?.BestTop1 ?? model.BestTop1,
                BestEpoch = run?.BestEpoch ?? model.BestEpoch,
                Epochs = run?.Epochs ?? model.TrainedEpochs,
                Options = run?.Options ?? "",
            });
        }
    }
}
