using System.Collections;
using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>Distills a teacher into a student with a named method and writes one run object.</summary>
/// <remarks>
/// <para>Trains the student on the dataset's training split with the task loss (cross-entropy) plus the method's
/// terms, computed from the teacher's outputs and features; the teacher stays frozen, in eval mode. Methods with a
/// pre-stage (FitNet's hint stage, FT's paraphraser, AB's initialisation, the teacher heads of MHKD and TOFD) run it
/// first. Get-KdMethod lists the methods, Get-KdMethod NAME -Option their options.</para>
/// <para>The student is a fresh network of -Student's architecture, or a copy of a model passed as -Student: the
/// object you pass is never modified, so one student can seed a whole sweep.</para>
/// <para>The run (KdRun) is one flat row with the same columns for every method: the settings, the last epoch's and
/// the best epoch's test top-1, the loss terms, the options used. It carries the trained student, so it pipes into
/// Measure-Student, Save-KdModel, or another Invoke-Distillation as the next teacher. The training settings and their
/// defaults are those of New-Teacher.</para>
/// <para>With -CheckpointPath, a run stopped by Ctrl+C (or a crash) continues with -Resume from its
/// last.safetensors, and ends exactly as an uninterrupted run would.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet14 -Dataset $data -Epochs 1
/// $teacher | Invoke-Distillation -Student resnet8 -Method KD -Dataset $data -Epochs 1
/// </code>
/// <para>Distills a resnet14 teacher into a resnet8 with Hinton's KD (temperature 4, alpha 0.9).</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet14 -Dataset $data -Epochs 1
/// 'KD', 'AT', 'CE' | ForEach-Object {
///     $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs 1
/// } | Format-Table Method, Top1, BestTop1, LossTerms
/// </code>
/// <para>A small sweep: the same student distilled with KD and with attention transfer, and trained alone (CE) as
/// the baseline.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $teacher | Invoke-Distillation resnet8 FitNet -MethodOption @{ HintEpochs = 1 } -KdWeight 0.9 -Dataset $data -Epochs 1
/// </code>
/// <para>FitNet with its hint stage shortened to one epoch, plus Hinton's KD term at weight 0.9.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $teacher | Invoke-Distillation -Student resnet8 -Dataset $data -Epochs 1 -CheckpointPath ./kd-run | Out-Null
/// Get-ChildItem ./kd-run | Select-Object Name
/// </code>
/// <para>Keeps checkpoints: last.safetensors after every epoch (what -Resume continues from after a stop) and
/// best.safetensors.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "Distillation")]
[OutputType(typeof(KdRun), typeof(KdEpoch))]
public sealed class InvokeDistillationCommand : KdTrainingCmdlet
{
    /// <summary>
    /// The teacher: a model from New-Teacher (or Add-IntermediateHead, for DIH), a run whose student becomes the teacher,
    /// or a checkpoint path. Usually piped in. Methods that need no teacher (CE, BYOT) do not run it.
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    [KdModelTransformation("Teacher")]
    public KdModel? Teacher { get; set; }

    /// <summary>
    /// The student: an architecture name (Get-KdArchitecture lists them), created with -Seed, or a model from New-Student
    /// or a run, which is copied and never modified.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public object Student { get; set; } = null!;

    /// <summary>The distillation method (Get-KdMethod lists them); CE trains the student from the labels alone.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MethodCompleter))]
    public string Method { get; set; } = "KD";

    /// <summary>
    /// The method's options by name (case-insensitive), e.g. @{ Temperature = 2; Alpha = 0.5 }. An unknown name is an
    /// error that lists the valid ones; Get-KdMethod NAME -Option shows them with their defaults.
    /// </summary>
    /// <value>the method's defaults (Get-KdMethod -Option)</value>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public Hashtable? MethodOption { get; set; }

    /// <summary>
    /// Weight of Hinton's KD term on the logits: adds it to a feature method (its KdWeight option) or sets the Alpha of
    /// KD, TAKD, DIH and MHKD. A method without a KD term fails with this parameter.
    /// </summary>
    /// <value>the method's own: KD's Alpha is 0.9, most feature methods' KdWeight 0 (Get-KdMethod -Option)</value>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0.0, 1000.0)]
    public double? KdWeight { get; set; }

    /// <summary>
    /// The dataset to train on (its training split) and evaluate on (its test split): Get-KdDataset's output or a
    /// dataset folder. Its class count must match the teacher's.
    /// </summary>
    [Parameter(Mandatory = true)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>
    /// The last.safetensors of a stopped run (in its -CheckpointPath folder): training continues from where it stopped.
    /// Pass the same teacher, student, method and settings as the stopped run.
    /// </summary>
    [Parameter]
    public string? Resume { get; set; }

    /// <summary>Also write one KdEpoch object per epoch (stage, learning rate, losses, accuracies) after the run, for learning curves.</summary>
    [Parameter]
    public SwitchParameter PassThruHistory { get; set; }

    protected override void ProcessRecord()
    {
        var data = Dataset.Dataset;
        var options = MethodOption?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Unwrap(e.Value),
            StringComparer.OrdinalIgnoreCase);
        if (KdWeight is double alpha) options = WithKdWeight(options, alpha);
        using var method = Invoke(() => MethodRegistry.Create(Method, options), Method);
        var student = Invoke(() => CreateStudent(data.Classes), Student);
        var settings = BuildSettings();
        // A teacher-free method (CE baseline, BYOT) never runs the teacher; it is kept only for Measure-Student's agreement.
        var teacherNetwork = method.NeedsTeacher ? Teacher?.Network : null;
        var job = new TrainingJob
        {
            Student = student,
            Teacher = teacherNetwork,
            Method = method,
            Dataset = data,
            ResumeFrom = Resume is null ? null : ResolvePath(Resume),
        };
        if (method is TakdMethod takd)
        {
            var activity = $"TAKD: {Teacher?.Architecture} → {takd.Options.Assistant} → {student.Architecture}";
            var takdResult = Invoke(() => TeacherAssistantDistillation.Run(teacherNetwork ?? throw new KdException(KdErrorIds.MethodNeedsTeacher,
                    KdErrorKind.InvalidArgument, "TAKD needs a teacher; pass -Teacher (New-Teacher …)"), student, takd, data, settings,
                CreateLogger(), p => ReportProgress(activity, p), Cancellation));
            CompleteProgress(activity);
            if (takdResult.Cancelled) throw new PipelineStoppedException();
            var assistantRun = BuildRun(takd, takdResult.Assistant, Teacher, takdResult.AssistantRun, data);
            Emit(assistantRun);
            Emit(BuildRun(takd, student, assistantRun.StudentModel, takdResult.StudentRun, data));
            return;
        }
        var result = Train(settings, job, $"{method.Name}: {Teacher?.Architecture ?? "no teacher"} → {student.Architecture}");
        if (result.Cancelled) throw new PipelineStoppedException();
        if (method.StudentExits is { } exits)
        {
            method.ReleaseExtras();
            student = new MultiExitNet(student, exits);
        }
        Emit(BuildRun(method, student, Teacher, result, data));
    }

    private void Emit(KdRun run)
    {
        WriteObject(run);
        if (PassThruHistory) WriteObject(run.History, enumerateCollection: true);
    }

    private KdRun BuildRun(DistillationMethod method, ClassifierNet student, KdModel? teacher, TrainingResult result, KdDataset data)
    {
        var last = result.TrainEpochs.LastOrDefault();
        var studentModel = new KdModel(student, "Student", data.Mean, data.Std)
        {
            TrainedWith = method.Name,
            TrainedOn = data.Name,
            TrainedEpochs = result.EpochsCompleted,
            Top1 = UseBest ? result.BestTop1 : result.LastTop1,
            BestTop1 = result.BestTop1,
            BestEpoch = result.BestEpoch,
            ExitTop1 = last is null ? "" : string.Join(";", last.ExitTop1.Select(e => $"{e.Key}={e.Value.ToString("G4", CultureInfo.InvariantCulture)}")),
            Path = result.LastCheckpoint ?? "",
        };
        var history = result.History.Select(h => new KdEpoch
        {
            Method = method.Name,
            Student = student.Architecture,
            Stage = h.Stage,
            Epoch = h.Epoch,
            LearningRate = h.LearningRate,
            TrainLoss = h.TrainLoss,
            TrainTop1 = h.TrainTop1,
            TestLoss = h.TestLoss,
            TestTop1 = h.TestTop1,
            TestTop5 = h.TestTop5,
            LossTerms = FormatTerms(h.Terms),
            Seconds = h.Duration.TotalSeconds,
        }).ToList();
        return new KdRun
        {
            Method = method.Name,
            Student = student.Architecture,
            Teacher = method.NeedsTeacher ? teacher?.Architecture ?? "" : "",
            Dataset = data.Name,
            Status = "Completed",
            Epochs = result.EpochsCompleted,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            Seed = Seed,
            Top1 = studentModel.Top1,
            Top5 = result.LastTop5,
            BestTop1 = result.BestTop1,
            BestEpoch = result.BestEpoch,
            TrainLoss = last?.TrainLoss ?? double.NaN,
            LossTerms = last is null ? "" : FormatTerms(last.Terms),
            Options = method.Options.ToCompactString(),
            PreStages = string.Join(";", method.PreStages.Where(p => p.Epochs > 0).Select(p => $"{p.Name}:{p.Epochs}")),
            StudentParameters = studentModel.Parameters,
            TeacherParameters = method.NeedsTeacher ? teacher?.Parameters ?? 0 : 0,
            Seconds = Math.Round(result.Duration.TotalSeconds, 2),
            Checkpoint = result.LastCheckpoint ?? "",
            StudentModel = studentModel,
            TeacherModel = teacher,
            History = history,
        };
    }

    private ClassifierNet CreateStudent(int classes) => (Student is PSObject ps ? ps.BaseObject : Student) switch
    {
        string architecture => ArchitectureRegistry.Create(architecture, classes, Seed),
        KdModel model => ArchitectureRegistry.Clone(model.Network),
        KdRun run => ArchitectureRegistry.Clone(run.StudentModel.Network),
        var other => throw new PSArgumentException(
            $"-Student takes an architecture name or a model from New-Student, not {other?.GetType().Name ?? "null"}", nameof(Student)),
    };

    private Dictionary<string, object?> WithKdWeight(Dictionary<string, object?>? options, double alpha)
    {
        var info = Invoke(() => MethodRegistry.Get(Method), Method);
        var key = info.Options.Select(o => o.Name).FirstOrDefault(n => n is "KdWeight" or "Alpha");
        if (key is null)
            Fail(Core.KdErrorIds.MethodOptionUnknown, Core.KdErrorKind.InvalidArgument,
                $"method {info.Name} has no KD term to weight; drop -KdWeight (its options: {string.Join(", ", info.Options.Select(o => o.Name))})", Method);
        var merged = options ?? new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        merged[key!] = alpha;
        return merged;
    }

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    internal static string FormatTerms(IReadOnlyDictionary<string, double> terms) =>
        string.Join(";", terms.Select(t => $"{t.Key}={t.Value.ToString("G6", CultureInfo.InvariantCulture)}"));
}
