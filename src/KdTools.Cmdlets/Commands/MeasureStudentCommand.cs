using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Cmdlets.Commands;

/// <summary>Measures models on a dataset's test split: accuracy, loss, agreement with the teacher, size and speed.</summary>
/// <remarks>
/// <para>Writes one KdMeasurement per exit of each model: top-1 and top-5 accuracy, mean cross-entropy, the fraction of
/// test images on which it agrees with the teacher's top-1 class, its parameter count, its latency (LatencyMs: the
/// median time of one forward pass of a single image) and its throughput (ImagesPerSecond: -BatchSize images divided
/// by the median time of one forward pass of that batch). Each input shape is warmed up first and the two timings
/// alternate, so they see the same machine load. A plain network has the single exit "final"; a model with
/// intermediate heads or branches (Add-IntermediateHead, BYOT) also gets a row per head and one for their
/// ensemble.</para>
/// <para>It takes models (New-Teacher, New-Student, Import-KdModel, Add-IntermediateHead), runs from
/// Invoke-Distillation (their teacher gives the agreement column, their settings fill Method, Epochs and Options) and
/// checkpoint paths, from the pipeline or as the first argument. Measurements have the same columns whatever was
/// measured, so teachers, students and baselines go into one Export-Csv.</para>
/// <para>A segmentation model on a segmentation dataset gets one KdSegmentationMeasurement instead, with its own
/// columns: MeanIoU and PixelAccuracy from one confusion matrix over every labelled test pixel (label 255 ignored),
/// ClassIoU as one compact string, TeacherAgreement per pixel, loss, parameters, latency and throughput. A classifier
/// on a segmentation dataset, or the reverse, is an error for that model.</para>
/// <para>A model that cannot be measured (a checkpoint that does not load, a model for another class count) is a
/// non-terminating error: the other models are still measured. A bad -Dataset, or a -Teacher of another class count,
/// stops the cmdlet before any model is measured.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $teacher | Measure-Student -Dataset $data
/// </code>
/// <para>Measures a teacher: accuracy, loss, parameters, milliseconds per image and images per second.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $runs = 'KD', 'CE' | ForEach-Object { $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs 1 }
/// @($teacher) + $runs | Measure-Student -Dataset $data -Teacher $teacher -NoTiming | Export-Csv results.csv
/// Import-Csv results.csv | Format-Table Model, Method, Top1, TeacherAgreement
/// </code>
/// <para>The teacher and two students against one teacher, without the timing passes, in one CSV.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 1 | Save-KdModel ./model.safetensors
/// Measure-Student ./model.safetensors -Dataset $data -NoTiming | Select-Object Model, Top1, Top5, Loss
/// </code>
/// <para>Measures a model saved in an earlier session, from its file.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Task Segmentation -Classes 3 -TrainCount 16 -TestCount 4 -ImageSize 32
/// $teacher = New-Teacher pspnet_resnet18_w8 -Dataset $data -Epochs 1
/// $teacher | Measure-Student -Dataset $data -NoTiming | Format-List Model, MeanIoU, PixelAccuracy, ClassIoU
/// </code>
/// <para>Measures a segmentation model: mean IoU, pixel accuracy and each class's IoU over all test pixels.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Measure, "Student")]
[OutputType(typeof(KdMeasurement), typeof(KdSegmentationMeasurement))]
public sealed class MeasureStudentCommand : KdCmdlet
{
    private KdDataset _data = null!;
    private KdModel? _teacher;

    /// <summary>
    /// What to measure: a model (New-Teacher, New-Student, Import-KdModel, Add-IntermediateHead), a run from
    /// Invoke-Distillation (its student), or a checkpoint path. Usually piped in.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [Alias("Student", "Model")]
    public object InputObject { get; set; } = null!;

    /// <summary>
    /// The dataset whose test split is measured: Get-KdDataset's output or a dataset folder. Its class count must match
    /// the model's.
    /// </summary>
    [Parameter(Mandatory = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>
    /// The teacher to compare with for TeacherAgreement: a model, a run (its student) or a checkpoint path. It must have
    /// the dataset's class count.
    /// </summary>
    /// <value>a piped run's teacher; none for a model (TeacherAgreement is then NaN)</value>
    [Parameter]
    public KdModelArgument? Teacher { get; set; }

    /// <summary>
    /// Images per forward pass, for the accuracy pass (speed and memory, not the numbers) and for the throughput
    /// (ImagesPerSecond) timing.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Skip the latency and throughput timing (a few seconds per model); LatencyMs and ImagesPerSecond are then NaN.</summary>
    [Parameter]
    public SwitchParameter NoTiming { get; set; }

    /// <summary>Where to run the model: cpu, cuda or cuda:N.</summary>
    [Parameter]
    public string Device { get; set; } = "cpu";

    protected override void BeginProcessing()
    {
        _data = ResolveDataset(Dataset).Dataset;
        _teacher = Teacher is null ? null : ResolveModel(Teacher, "Teacher");
        // A -Teacher or -Device that cannot serve is configuration: it stops the cmdlet before any model is measured.
        if (_teacher is not null) Invoke(() => Measurement.RequireTeacher(_teacher.Network, _data), _teacher);
        Invoke(() => Devices.Resolve(Device), Device);
    }

    protected override void ProcessRecord()
    {
        if (!TryResolveModel(InputObject, "Student", out var model, out var run)) return;
        var teacher = _teacher ?? run?.TeacherModel;
        var request = new MeasurementRequest
        {
            Model = model.Network,
            Dataset = _data,
            Teacher = teacher?.Network,
            BatchSize = BatchSize,
            Timing = !NoTiming,
            Device = Device,
            Logger = CreateLogger(),
        };
        bool measured = TryInvoke(() => Measurement.Run(request, Cancellation), model, out var result);
        FlushLog();
        if (!measured) return;
        if (result.Segmentation is { } segmentation)
        {
            WriteObject(new KdSegmentationMeasurement
            {
                Model = model.Architecture,
                Role = model.Role,
                Method = run?.Method ?? model.TrainedWith,
                Teacher = teacher?.Architecture ?? "",
                Dataset = _data.Name,
                Count = result.Count,
                Pixels = segmentation.Pixels,
                MeanIoU = segmentation.MeanIoU,
                PixelAccuracy = segmentation.PixelAccuracy,
                ClassIoU = segmentation.FormatClassIoU(_data.ClassNames),
                Loss = segmentation.Loss,
                TeacherAgreement = segmentation.TeacherAgreement,
                Parameters = model.Parameters,
                Runtime = model.Runtime,
                LatencyMs = result.Speed?.MillisecondsPerImage ?? double.NaN,
                ImagesPerSecond = result.Speed?.ImagesPerSecond ?? double.NaN,
                Epochs = run?.Epochs ?? model.TrainedEpochs,
                Options = run?.Options ?? "",
            });
            return;
        }
        foreach (var (exit, scores) in result.Exits)
        {
            WriteObject(new KdMeasurement
            {
                Model = model.Architecture,
                Role = model.Role,
                Method = run?.Method ?? model.TrainedWith,
                Teacher = teacher?.Architecture ?? "",
                Exit = exit,
                Dataset = _data.Name,
                Count = scores.Count,
                Top1 = scores.Top1,
                Top5 = scores.Top5,
                Loss = scores.Loss,
                TeacherAgreement = scores.TeacherAgreement,
                Parameters = model.Parameters,
                Runtime = model.Runtime,
                LatencyMs = result.Speed?.MillisecondsPerImage ?? double.NaN,
                ImagesPerSecond = result.Speed?.ImagesPerSecond ?? double.NaN,
                BestTop1 = run?.BestTop1 ?? model.BestTop1,
                BestEpoch = run?.BestEpoch ?? model.BestEpoch,
                Epochs = run?.Epochs ?? model.TrainedEpochs,
                Options = run?.Options ?? "",
            });
        }
    }
}
