using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Measures models on a dataset's test split: top-1, top-5, loss, agreement with the teacher, size, single-image
/// latency and batched throughput. Takes models (New-Teacher, New-Student, Import-KdModel), runs (Invoke-Distillation;
/// their teacher is used for agreement) or checkpoint paths from the pipeline, and emits one row per exit of each.</para>
/// <para>A model that cannot be measured (a checkpoint that does not load, a model for another class count) is a
/// non-terminating error: the other models are still measured. A bad -Dataset or -Teacher stops the cmdlet before any
/// model is measured.</para>
/// </summary>
/// <example>
/// <code>$runs | Measure-Student -Dataset $data | Export-Csv results.csv</code>
/// <para>One row per run's student, with its teacher's agreement, appended to one CSV.</para>
/// </example>
/// <example>
/// <code>$teacher, $student, './saved/kd.safetensors' | Measure-Student -Dataset $data -Teacher $teacher -NoTiming</code>
/// <para>Compares models and a saved checkpoint against one teacher, without the timing passes.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Measure, "Student")]
[OutputType(typeof(KdMeasurement))]
public sealed class MeasureStudentCommand : KdCmdlet
{
    private KdDataset _data = null!;
    private KdModel? _teacher;
    private TorchSharp.torch.Device _device = null!;

    /// <summary>A model (New-Teacher, New-Student, Import-KdModel), a run (Invoke-Distillation) or a checkpoint path.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [Alias("Student", "Model")]
    public object InputObject { get; set; } = null!;

    /// <summary>The dataset whose test split is measured: Get-KdDataset output or a dataset folder path.</summary>
    [Parameter(Mandatory = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>Teacher for the TeacherAgreement column (a model, a run or a checkpoint path); defaults to the run's
    /// teacher when a run is piped in. It must have the dataset's class count.</summary>
    [Parameter]
    public KdModelArgument? Teacher { get; set; }

    /// <summary>Images per forward pass, for the accuracy pass and for the throughput (ImagesPerSecond) timing. Default 64.</summary>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Skip the latency and throughput timing (a few seconds per model); LatencyMs and ImagesPerSecond are then NaN.</summary>
    [Parameter]
    public SwitchParameter NoTiming { get; set; }

    /// <summary>Where to run: cpu (default), cuda or cuda:N.</summary>
    [Parameter]
    public string Device { get; set; } = "cpu";

    protected override void BeginProcessing()
    {
        _data = ResolveDataset(Dataset).Dataset;
        _teacher = Teacher is null ? null : ResolveModel(Teacher, "Teacher");
        if (_teacher is not null && _teacher.Classes != _data.Classes)
            Fail(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the teacher {_teacher.Architecture} has {_teacher.Classes} classes but dataset '{_data.Name}' has {_data.Classes}: " +
                "agreement between models of different class counts means nothing; pass a teacher trained on this dataset", _teacher);
        _device = Invoke(() => Devices.Resolve(Device), Device);
    }

    protected override void ProcessRecord()
    {
        if (!TryResolveModel(InputObject, "Student", out var model, out var run)) return;
        var teacher = _teacher ?? run?.TeacherModel;
        if (model.Classes != _data.Classes)
        {
            WriteKdError(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"{model.Architecture} has {model.Classes} classes but dataset '{_data.Name}' has {_data.Classes}; " +
                "measure it on the dataset it was trained for", model);
            return;
        }
        if (teacher is not null && teacher.Classes != model.Classes)
        {
            WriteKdError(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"{model.Architecture} has {model.Classes} classes but its teacher {teacher.Architecture} has {teacher.Classes}", model);
            return;
        }

        model.Network.to(_device);
        teacher?.Network.to(_device);
        if (!TryInvoke(() => Evaluator.EvaluateExits(model.Network, _data.Test, _data.Mean, _data.Std, _device, BatchSize,
                teacher?.Network, Cancellation), model, out var exits))
            return;
        LatencyResult? speed = null;
        if (!NoTiming && !TryInvoke(() => LatencyMeter.Measure(model.Network, _data.Channels, _data.Height, _data.Width, _device, BatchSize),
                model, out speed))
            return;
        foreach (var (exit, result) in exits)
        {
            WriteObject(new KdMeasurement
            {
                Model = model.Architecture,
                Role = model.Role,
                Method = run?.Method ?? model.TrainedWith,
                Teacher = teacher?.Architecture ?? "",
                Exit = exit,
                Dataset = _data.Name,
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
