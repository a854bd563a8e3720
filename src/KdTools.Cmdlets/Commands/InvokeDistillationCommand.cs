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

/// <summary>
/// <para>Distills a teacher into a student with a named method and emits one run object (one CSV row).</para>
/// <para>The student is a fresh network of -Student's architecture, or a copy of a model passed as -Student:
/// the object you pass is never modified, so one student can seed a whole sweep.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "Distillation")]
[OutputType(typeof(KdRun), typeof(KdEpoch))]
public sealed class InvokeDistillationCommand : KdTrainingCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    [KdModelTransformation("Teacher")]
    public KdModel? Teacher { get; set; }

    /// <summary>An architecture name (see Get-KdArchitecture) or a model from New-Student.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public object Student { get; set; } = null!;

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MethodCompleter))]
    public string Method { get; set; } = "KD";

    /// <summary>Method options by name, e.g. @{ Temperature = 2; Alpha = 0.5 } (see Get-KdMethod -Option).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public Hashtable? MethodOption { get; set; }

    /// <summary>Weight α of the Hinton KD term: adds KD to a feature method (its KdWeight option), or sets KD's Alpha.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0.0, 1000.0)]
    public double? KdWeight { get; set; }

    [Parameter(Mandatory = true)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>A resumable checkpoint (last.safetensors) of an interrupted run with the same settings.</summary>
    [Parameter]
    public string? Resume { get; set; }

    /// <summary>Also emit one KdEpoch object per epoch (learning curves) after the run.</summary>
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
