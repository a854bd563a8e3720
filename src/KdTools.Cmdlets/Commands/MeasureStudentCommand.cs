using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Evaluation;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Cmdlets.Commands;

/// <summary>Measures a model on a dataset's test split: accuracy, loss, agreement with the teacher, size and speed.</summary>
/// <remarks>
/// <para>Writes one KdMeasurement per exit of the model: top-1 and top-5 accuracy, mean cross-entropy, the fraction of
/// test images on which it agrees with the teacher's top-1 class, its parameter count, the median latency of one
/// image and the throughput at -ThroughputBatchSize. A plain network has the single exit "final"; a model with
/// intermediate heads or branches (Add-IntermediateHead, BYOT) also gets a row per head and one for their ensemble.</para>
/// <para>It takes models (New-Teacher, New-Student, Add-IntermediateHead), runs from Invoke-Distillation (their teacher
/// gives the agreement column, their settings fill Method, Epochs and Options) and checkpoint paths, from the pipeline
/// or as the first argument. Measurements have the same columns whatever was measured, so teachers, students and
/// baselines go into one Export-Csv.</para>
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
/// $teacher = New-Teacher resnet14 -Dataset $data -Epochs 1
/// $runs = 'KD', 'CE' | ForEach-Object { $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs 1 }
/// $runs | Measure-Student -Dataset $data -NoTiming | Export-Csv ./students.csv
/// Import-Csv ./students.csv | Format-Table Model, Method, Top1, TeacherAgreement
/// </code>
/// <para>Measures a distilled student and its CE baseline against the teacher (without the timing) and writes one CSV
/// row each.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 1 | Save-KdModel ./model.safetensors
/// Measure-Student ./model.safetensors -Dataset $data -NoTiming | Select-Object Model, Top1, Top5, Loss
/// </code>
/// <para>Measures a model saved in an earlier session, from its file.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Measure, "Student")]
[OutputType(typeof(KdMeasurement))]
public sealed class MeasureStudentCommand : KdCmdlet
{
    /// <summary>
    /// What to measure: a model (New-Teacher, New-Student, Add-IntermediateHead), a run from Invoke-Distillation (its
    /// student), or a checkpoint path. Usually piped in.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [Alias("Student", "Model")]
    public object InputObject { get; set; } = null!;

    /// <summary>
    /// The dataset whose test split is measured: Get-KdDataset's output or a dataset folder. Its class count must match
    /// the model's.
    /// </summary>
    [Parameter(Mandatory = true)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>The teacher to compare with for TeacherAgreement: a model, a run (its student) or a checkpoint path.</summary>
    /// <value>a piped run's teacher; none for a model (TeacherAgreement is then NaN)</value>
    [Parameter]
    [KdModelTransformation("Teacher")]
    public KdModel? Teacher { get; set; }

    /// <summary>Test images per evaluation batch. Changes speed and memory use, not the numbers.</summary>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Batch size at which ImagesPerSecond is measured (LatencyMs always uses single images).</summary>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int ThroughputBatchSize { get; set; } = 64;

    /// <summary>Skip the latency and throughput timing (a few seconds per model); LatencyMs and ImagesPerSecond are then NaN.</summary>
    [Parameter]
    public SwitchParameter NoTiming { get; set; }

    /// <summary>Where to run the model: cpu, cuda or cuda:N.</summary>
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
        var exits = Invoke(() => Evaluator.EvaluateExits(model.Network, data.Test, data.Mean, data.Std, device, BatchSize,
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
