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

    private KdDataset _data = null!;
    private KdModelArgument? _commandLineTeacher;
    private KdModel? _resolvedTeacher;

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
    public KdModelArgument? Teacher { get; set; }

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

    /// <summary>The dataset to train on: Get-KdDataset output or the path of a dataset folder.</summary>
    [Parameter(Mandatory = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>
    /// A resumable checkpoint (*-last.safetensors) of an interrupted run, to continue it. The run must be the same:
    /// the same student, method and options, settings, seed, dataset contents and teacher weights; any difference is
    /// refused with a KdTools.Checkpoint.Mismatch error that lists them. The run keeps writing to that checkpoint.
    /// </summary>
    /// <example>
    /// <code>
    /// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
    /// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
    /// $teacher | Invoke-Distillation -Student resnet8 -Dataset $data -Epochs 2 -CheckpointDirectory ./runs   # stopped with Ctrl+C
    /// $last = Get-ChildItem ./runs -Filter *-last.safetensors | Sort-Object LastWriteTime | Select-Object -Last 1
    /// $teacher | Invoke-Distillation -Student resnet8 -Dataset $data -Epochs 2 -Resume $last.FullName
    /// </code>
    /// <para>Continues a stopped run from its newest checkpoint, with the same command line.</para>
    /// </example>
    [Parameter]
    public string? Resume { get; set; }

    protected override void BeginProcessing()
    {
        _data = ResolveDataset(Dataset).Dataset;
        // A -Teacher given on the command line is configuration: a bad one stops the cmdlet before any run.
        if (Teacher is not null) (_commandLineTeacher, _resolvedTeacher) = (Teacher, ResolveModel(Teacher, "Teacher"));
    }

    /// <summary>The teacher of this record: the command line's, or the piped one (a bad one is this item's error).</summary>
    private bool TryTeacher(KdModelArgument? argument, out KdModel? teacher)
    {
        teacher = null;
        if (argument is null) return true;
        if (ReferenceEquals(argument, _commandLineTeacher)) return (teacher = _resolvedTeacher) is not null;
        bool resolved = TryResolveModel(argument.Value, "Teacher", out var model, out _);
        teacher = model;
        return resolved;
    }

    protected override void ProcessRecord()
    {
        var teacherArgument = ParameterSetName == PlanSet ? ReadPlan() : Teacher;
        var data = _data;
        var descriptor = Invoke(() => MethodRegistry.Get(Method), Method);
        var (studentNetwork, architecture) = StudentNetwork();
        var settings = BuildSettings(architecture);
        if (!TryTeacher(teacherArgument, out var given)) return;
        var teacher = descriptor.NeedsTeacher ? given : null;
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
            StartOver = Force,
            Logger = logger,
            Progress = progress,
        }, Cancellation), activity, Method);
        WriteObject(RunFrom(result, teacher, given, data));
    }

    /// <summary>
    /// The piped object of the Plan parameter set: a teacher (a model, a run, a checkpoint path or file: PowerShell binds
    /// these here when -Student is given by name, as they need no conversion to the row's type) or a plan row, whose
    /// cells it applies. Returns the record's teacher argument.
    /// </summary>
    private KdModelArgument? ReadPlan()
    {
        if (PlanRow.BaseObject is KdRun or KdModel or string or FileInfo)
        {
            if (Teacher is not null)
                Fail(Core.KdErrorIds.TrainingSettingInvalid, Core.KdErrorKind.InvalidArgument,
                    "a model or run piped into Invoke-Distillation supplies the teacher and nothing else: name the student with -Student, and pass the teacher either through the pipeline or with -Teacher, not both", nameof(Teacher));
            if (Student is null)
                Fail(Core.KdErrorIds.TrainingSettingInvalid, Core.KdErrorKind.InvalidArgument,
                    "a model or run piped into Invoke-Distillation supplies the teacher and nothing else, and no student is named: pass -Student (an architecture name or a model)", nameof(Student));
            return new KdModelArgument(PlanRow);
        }
        ApplyPlanRow(PlanRow, PlanColumns);
        if (Student is null)
            Fail(Core.KdErrorIds.TrainingSettingInvalid, Core.KdErrorKind.InvalidArgument,
                "the plan row has no Student: add a Student column (an architecture name) or pass -Student", nameof(Student));
        return Teacher;
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

    /// <summary>A hashtable value as its .NET object: PSObject wrappers removed, in arrays too.</summary>
    private static object? Unwrap(object? value) => (value is PSObject ps ? ps.BaseObject : value) switch
    {
        object?[] items => items.Select(Unwrap).ToArray(),
        var other => other,
    };

    internal static string FormatTerms(IReadOnlyDictionary<string, double> terms) =>
        string.Join(";", terms.Select(t => $"{t.Key}={t.Value.ToString("G6", CultureInfo.InvariantCulture)}"));
}
