using System.Collections;
using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Distills a teacher into a student with a named method and emits one run object (one CSV row).</para>
/// <para>A model or run piped in supplies the teacher and nothing else. A CSV row of hyper-parameters piped in
/// (Import-Csv plan.csv) is a plan: its Student, Method, MethodOption/Options, KdWeight, Recipe, Epochs, BatchSize,
/// LearningRate, Momentum, Nesterov, WeightDecay, LrSchedule, LrMilestones, LrDecay, Seed, NoAugment and UseBest
/// cells set those parameters unless the command line gives them.</para>
/// <para>The student is a fresh network of -Student's architecture, or a copy of a model passed as -Student:
/// the object you pass is never modified, so one student can seed a whole sweep.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "Distillation", DefaultParameterSetName = TeacherSet)]
[OutputType(typeof(KdRun))]
public sealed class InvokeDistillationCommand : KdTrainingCmdlet
{
    private const string TeacherSet = "Teacher";
    private const string PlanSet = "Plan";

    /// <summary>What a plan row may set: the run's hyper-parameters, never its inputs or plumbing.</summary>
    private static readonly string[] PlanColumns =
    [
        nameof(Student), nameof(Method), nameof(MethodOption), nameof(KdWeight), nameof(Recipe), nameof(Epochs), nameof(BatchSize),
        nameof(LearningRate), nameof(Momentum), nameof(Nesterov), nameof(WeightDecay), nameof(LrSchedule), nameof(LrMilestones),
        nameof(LrDecay), nameof(Seed), nameof(NoAugment), nameof(UseBest),
    ];

    /// <summary>The teacher: a model (New-Teacher, Add-IntermediateHead), a run (its student) or a checkpoint path; from the pipeline by value.</summary>
    [Parameter(ParameterSetName = TeacherSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = PlanSet)]
    [KdModelTransformation("Teacher")]
    public KdModel? Teacher { get; set; }

    /// <summary>A row of hyper-parameters from the pipeline (Import-Csv plan.csv), bound by value in the Plan parameter set.</summary>
    [Parameter(ParameterSetName = PlanSet, Mandatory = true, ValueFromPipeline = true, DontShow = true)]
    public PSObject PlanRow { get; set; } = null!;

    /// <summary>An architecture name (see Get-KdArchitecture) or a model from New-Student.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TeacherSet)]
    [Parameter(ParameterSetName = PlanSet)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public object Student { get; set; } = null!;

    /// <summary>The method (Get-KdMethod); default KD.</summary>
    [Parameter(Position = 1)]
    [ArgumentCompleter(typeof(MethodCompleter))]
    public string Method { get; set; } = "KD";

    /// <summary>Method options by name, @{ Temperature = 2; Alpha = 0.5 } or "Temperature=2;Alpha=0.5" (see Get-KdMethod -Option).</summary>
    [Parameter]
    [Alias("Options")]
    [MethodOptionTransformation]
    public Hashtable? MethodOption { get; set; }

    /// <summary>Weight α of the Hinton KD term: adds KD to a feature method (its KdWeight option), or sets KD's and TAKD's Alpha.</summary>
    [Parameter]
    [ValidateRange(0.0, 1000.0)]
    public double? KdWeight { get; set; }

    [Parameter(Mandatory = true)]
    [KdDatasetTransformation]
    public KdDatasetInfo Dataset { get; set; } = null!;

    /// <summary>A resumable checkpoint (last.safetensors) of an interrupted run with the same settings.</summary>
    [Parameter]
    public string? Resume { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == PlanSet) ReadPlan();
        var data = Dataset.Dataset;
        var descriptor = Invoke(() => MethodRegistry.Get(Method), Method);
        var (studentNetwork, architecture) = StudentNetwork();
        var settings = BuildSettings(architecture);
        var teacher = descriptor.NeedsTeacher ? Teacher : null;
        var options = MethodOption?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Unwrap(e.Value), StringComparer.OrdinalIgnoreCase);
        var activity = $"{descriptor.Name}: {teacher?.Architecture ?? "no teacher"} → {architecture}";
        var result = Train((logger, progress) => Distillation.Run(new DistillationRequest
        {
            Dataset = data,
            StudentArchitecture = architecture,
            Student = studentNetwork,
            Teacher = teacher?.Network,
            MethodName = descriptor.Name,
            MethodOptions = options,
            KdWeight = KdWeight,
            Settings = settings,
            ResumeFrom = Resume is null ? null : ResolvePath(Resume),
            Logger = logger,
            Progress = progress,
        }, Cancellation), activity, Method);
        WriteObject(RunFrom(result, teacher, Teacher, data));
    }

    private void ReadPlan()
    {
        if (PlanRow.BaseObject is KdRun or KdModel)
            Fail(Core.KdErrorIds.TrainingSettingInvalid, Core.KdErrorKind.InvalidArgument,
                "a model or run piped into Invoke-Distillation supplies the teacher and nothing else: name the student with -Student, and pass the teacher either through the pipeline or with -Teacher, not both", nameof(Teacher));
        ApplyPlanRow(PlanRow, PlanColumns);
        if (Student is null)
            Fail(Core.KdErrorIds.TrainingSettingInvalid, Core.KdErrorKind.InvalidArgument,
                "the plan row has no Student: add a Student column (an architecture name) or pass -Student", nameof(Student));
    }

    /// <summary>A copy of a model passed as -Student (the caller's object is never trained), or null and the architecture name.</summary>
    private (ClassifierNet? Network, string Architecture) StudentNetwork() => (Student is PSObject ps ? ps.BaseObject : Student) switch
    {
        string name => (null, Invoke(() => ArchitectureRegistry.Get(name), name).Name),
        KdModel model => (ArchitectureRegistry.Clone(model.Network), model.Architecture),
        KdRun run => (ArchitectureRegistry.Clone(run.StudentModel.Network), run.StudentModel.Architecture),
        var other => throw new PSArgumentException(
            $"-Student takes an architecture name or a model from New-Student, not {other?.GetType().Name ?? "null"}", nameof(Student)),
    };

    /// <summary>
    /// The run row; its Teacher column names the teacher the method learned from as the user gave it (TAKD's assistant is
    /// in EarlierRuns). A teacher given to a teacher-free method (the CE baseline) is kept only for Measure-Student's
    /// agreement column.
    /// </summary>
    private KdRun RunFrom(DistillationResult result, KdModel? teacher, KdModel? given, KdDataset data)
    {
        var student = ModelFrom(result, "Student", data);
        var last = result.TrainEpochs.LastOrDefault();
        var settings = result.Settings;
        return new KdRun
        {
            Method = result.Method,
            Student = student.Architecture,
            Teacher = teacher?.Architecture ?? "",
            Dataset = data.Name,
            Status = "Completed",
            Recipe = result.Recipe,
            Epochs = result.EpochsCompleted,
            BatchSize = settings.BatchSize,
            LearningRate = settings.LearningRate,
            Momentum = settings.Momentum,
            Nesterov = settings.Nesterov,
            WeightDecay = settings.WeightDecay,
            Schedule = settings.Schedule.Describe(settings.Epochs),
            Augmentation = settings.Augmentation.ToString(),
            Seed = settings.Seed,
            Top1 = result.Top1,
            Top5 = result.Top5,
            BestTop1 = result.BestTop1,
            BestTop5 = result.BestTop5,
            BestEpoch = result.BestEpoch,
            ExitTop1 = student.ExitTop1,
            TrainLoss = last?.TrainLoss ?? double.NaN,
            LossTerms = last is null ? "" : FormatTerms(last.Terms),
            Options = result.MethodOptions,
            PreStages = string.Join(";", result.PreStages.Select(p => $"{p.Name}:{p.Epochs}")),
            StudentParameters = student.Parameters,
            TeacherParameters = teacher?.Parameters ?? 0,
            ExtraParameters = result.ExtraParameters,
            Seconds = Math.Round(result.Duration.TotalSeconds, 2),
            Checkpoint = result.LastCheckpoint ?? "",
            StudentModel = student,
            TeacherModel = given,
            History = result.History.Select(h => new KdEpoch
            {
                Method = result.Method,
                Student = student.Architecture,
                Teacher = teacher?.Architecture ?? "",
                Seed = settings.Seed,
                Stage = h.Stage,
                Epoch = h.Epoch,
                LearningRate = h.LearningRate,
                Nesterov = h.Nesterov,
                TrainLoss = h.TrainLoss,
                TrainTop1 = h.TrainAccuracy,
                TestLoss = h.TestLoss,
                TestTop1 = h.TestTop1,
                TestTop5 = h.TestTop5,
                LossTerms = FormatTerms(h.Terms),
                Seconds = h.Duration.TotalSeconds,
            }).ToList(),
            EarlierRuns = result.EarlierRuns.Select(r => RunFrom(r, teacher, given, data)).ToList(),
        };
    }

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    internal static string FormatTerms(IReadOnlyDictionary<string, double> terms) =>
        string.Join(";", terms.Select(t => $"{t.Key}={t.Value.ToString("G6", CultureInfo.InvariantCulture)}"));
}
