using System.Collections;
using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Sweeps;
using KdTools.Core.Training;
using CorePlanRow = KdTools.Core.Sweeps.PlanRow;

namespace KdTools.Cmdlets.Commands;

/// <summary>Distills a teacher into a student with a named method and writes one run object.</summary>
/// <remarks>
/// <para>Trains the student on the dataset's training split with the task loss (cross-entropy) plus the method's
/// terms, computed from the teacher's outputs and features; the teacher stays frozen, in eval mode. Methods with a
/// pre-stage (FitNet's hint stage, FT's paraphraser, AB's initialisation, the teacher heads of MHKD and TOFD) run it
/// first. Get-KdMethod lists the methods, Get-KdMethod NAME -Option their options. The training settings come from
/// -Recipe, with every parameter given explicitly on top, as for New-Teacher.</para>
/// <para>A model or run piped in supplies the teacher and nothing else. A row of hyper-parameters piped in
/// (Import-Csv plan.csv) is a plan, the Plan parameter set: its Student, Method, MethodOption/Options, KdWeight,
/// Recipe, Epochs, BatchSize, LearningRate, Momentum, Nesterov, WeightDecay, LrSchedule, LrMilestones, LrDecay, Seed,
/// NoAugment and UseBest cells set those parameters for that row only, unless the command line gives them (empty cells
/// and other columns are ignored); the teacher then comes from -Teacher.</para>
/// <para>The student is a fresh network of -Student's architecture, or a copy of a model passed as -Student: the
/// object you pass is never modified, so one student can seed a whole sweep.</para>
/// <para>The run (KdRun) is one flat row with the same columns for every method: the settings, the last epoch's and
/// the best epoch's test top-1, the loss terms, the options used. It carries the trained student, so it pipes into
/// Measure-Student, Save-KdModel, or another Invoke-Distillation as the next teacher; Get-KdHistory gives its epochs.
/// TAKD's run carries its assistant's run in EarlierRuns.</para>
/// <para>With -CheckpointDirectory, a run stopped by Ctrl+C (or a crash) continues with -Resume from its
/// &lt;run&gt;-last.safetensors, and ends exactly as an uninterrupted run would.</para>
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
/// @'
/// Student,Method,Options,Epochs,LearningRate
/// resnet8,KD,Temperature=2;Alpha=0.5,1,0.05
/// resnet8,AT,,2,0.1
/// '@ | Set-Content ./plan.csv
/// Import-Csv ./plan.csv | Invoke-Distillation -Teacher $teacher -Dataset $data | Format-Table Method, Epochs, LearningRate, Options
/// </code>
/// <para>A plan: each CSV row is one run with its own method, options, epochs and learning rate; the teacher and the
/// dataset come from the command line.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $teacher | Invoke-Distillation resnet8 -Dataset $data -Recipe RepDistiller -Epochs 2 -CheckpointDirectory ./kd-run |
///     Format-Table Recipe, Epochs, LearningRate, Schedule
/// Get-ChildItem ./kd-run | Select-Object Name
/// </code>
/// <para>RepDistiller's recipe shortened to 2 epochs (its milestones are fractions of the epochs, so they move with
/// them), keeping checkpoints named after the run: KD-resnet8-…-last.safetensors after every epoch (what -Resume
/// continues from after a stop) and KD-resnet8-…-best.safetensors.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $plan = 'KD', 'CE' | ForEach-Object { [pscustomobject]@{ Student = 'resnet8'; Method = $_; Epochs = 1 } }
/// $plan | Invoke-Distillation -Teacher $teacher -Dataset $data -ResultPath ./sweep.csv | Format-Table Method, Status, Top1
/// $plan | Invoke-Distillation -Teacher $teacher -Dataset $data -ResultPath ./sweep.csv | Format-Table Method, Status, Top1
/// Import-Csv ./sweep.csv | Format-Table Status, Method, Top1, Checkpoint
/// </code>
/// <para>A resumable sweep: the ledger sweep.csv records each row as it starts and ends. The second command finds both
/// rows completed and runs nothing (Status Skipped: the runs as the ledger recorded them); after a crash or a failed
/// row it would resume or rerun only those.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "Distillation", DefaultParameterSetName = TeacherSet)]
[OutputType(typeof(KdRun))]
public sealed class InvokeDistillationCommand : KdTrainingCmdlet
{
    private const string TeacherSet = "Teacher";
    private const string PlanSet = "Plan";

    private KdDataset _data = null!;
    private SweepLedger? _ledger;
    private KdModelArgument? _commandLineTeacher;
    private KdModel? _resolvedTeacher;

    /// <summary>
    /// The teacher: a model from New-Teacher or Import-KdModel (or Add-IntermediateHead, for DIH), a run whose student
    /// becomes the teacher, or a checkpoint path. Usually piped in; with a plan, given here. Methods that need no teacher
    /// (CE, BYOT) do not run it; it is then only Measure-Student's reference for TeacherAgreement.
    /// </summary>
    [Parameter(ParameterSetName = TeacherSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = PlanSet)]
    public KdModelArgument? Teacher { get; set; }

    /// <summary>
    /// A row of hyper-parameters piped in (Import-Csv plan.csv, or any object with those properties): its cells set
    /// the run's Student, Method, Options and training settings. Not named on the command line.
    /// </summary>
    [Parameter(ParameterSetName = PlanSet, Mandatory = true, ValueFromPipeline = true, DontShow = true)]
    public PSObject PlanRow { get; set; } = null!;

    /// <summary>
    /// The student: an architecture name (Get-KdArchitecture lists them), created with -Seed, or a model from
    /// New-Student or a run, which is copied and never modified. A plan row may give it in a Student column.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TeacherSet)]
    [Parameter(ParameterSetName = PlanSet)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public object Student { get; set; } = null!;

    /// <summary>The distillation method (Get-KdMethod lists them); CE trains the student from the labels alone.</summary>
    [Parameter(Position = 1)]
    [ArgumentCompleter(typeof(MethodCompleter))]
    public string Method { get; set; } = "KD";

    /// <summary>
    /// The method's options by name (case-insensitive): @{ Temperature = 2; Alpha = 0.5 } or "Temperature=2;Alpha=0.5"
    /// (a plan's Options cell). An unknown name is an error that lists the valid ones; Get-KdMethod NAME -Option shows
    /// them with their defaults.
    /// </summary>
    /// <value>the method's defaults (Get-KdMethod -Option)</value>
    [Parameter]
    [Alias("Options")]
    [MethodOptionTransformation]
    public Hashtable? MethodOption { get; set; }

    /// <summary>
    /// Weight α of Hinton's KD term on the logits: the method's KdWeight option (a feature method then adds the KD
    /// term), or its Alpha where it has no KdWeight (KD, TAKD). It overrides the same option in -MethodOption; a method
    /// with neither fails.
    /// </summary>
    /// <value>the method's own: KD's Alpha is 0.9, most feature methods' KdWeight 0 (Get-KdMethod -Option)</value>
    [Parameter]
    [ValidateRange(0.0, 1000.0)]
    public double? KdWeight { get; set; }

    /// <summary>
    /// The dataset to train on (its training split) and evaluate on (its test split): Get-KdDataset's output or a
    /// dataset folder. Its class count must match the teacher's.
    /// </summary>
    [Parameter(Mandatory = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>
    /// A sweep ledger (a CSV file, created when missing) that makes a sweep resumable: every run appends its row —
    /// the plan row's key, Started/Completed/Failed/Stopped, the host, the checkpoint, the error or the results — as one
    /// whole line under a lock, so runs in parallel (ForEach-Object -Parallel, processes, hosts writing to one shared
    /// folder) never lose or tear lines. Run the same plan with the same ledger again and rows already completed are
    /// skipped (nothing is written for them), rows whose run was killed or stopped resume from their checkpoint, and
    /// failed rows run again. A row that fails (divergence, a bad option, I/O) is a non-terminating error recorded in
    /// the ledger; the other rows go on. Checkpoints go to -CheckpointDirectory, or to the folder &lt;ledger&gt;-checkpoints
    /// beside the ledger. Import-Csv the ledger and keep Status Completed for the sweep's results.
    /// </summary>
    /// <value>None: runs are not recorded, and a rerun runs every row again</value>
    [Parameter]
    public string? ResultPath { get; set; }

    protected override void BeginProcessing()
    {
        _data = ResolveDataset(Dataset).Dataset;
        if (ResultPath is not null)
        {
            _ledger = new SweepLedger(ResolvePath(ResultPath));
            Invoke(() => _ledger.Read(), ResultPath);
        }
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
        KdModelArgument? teacherArgument = Teacher;
        CorePlanRow? row = null;
        if (ParameterSetName == PlanSet)
        {
            // A malformed cell fails its row alone (non-terminating); the sweep goes on with the next row.
            try { (teacherArgument, row) = ReadPlan(); }
            catch (Core.KdException rowError) { WriteError(ErrorRecords.From(rowError, PlanRow)); return; }
        }
        var (studentNetwork, architecture) = Student is null ? (null, null) : StudentNetwork();
        var request = new DistillationRequest
        {
            Dataset = _data,
            StudentArchitecture = architecture,
            Student = studentNetwork,
            MethodName = Method,
            MethodOptions = MethodOption?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Unwrap(e.Value), StringComparer.OrdinalIgnoreCase),
            KdWeight = KdWeight,
            Recipe = RecipeName,
            Overrides = Overrides(),
            ResumeFrom = ResumePath,
            StartOver = Force,
        };
        if (row is not null)
        {
            // The row's cells on top of the command line's request, where the command line did not give them (Core decides).
            try { request = row.ApplyTo(request, MyInvocation.BoundParameters.Keys); }
            catch (Core.KdException rowError) { WriteError(ErrorRecords.From(rowError, PlanRow)); return; }
        }
        if (!TryTeacher(teacherArgument, out var given)) return;
        request = request with { Teacher = given?.Network };
        var method = request.MethodName;
        var activity = $"{method}: {given?.Architecture ?? "no teacher"} → {request.StudentArchitecture}";
        DistillationResult result;
        if (_ledger is null)
        {
            result = Train((logger, progress) => Distillation.Run(request with { Logger = logger, Progress = progress }, Cancellation), activity, method);
        }
        else
        {
            var outcome = TrainRow(_ledger, request, activity, method);
            if (outcome.Action == SweepAction.Skipped)
            {
                WriteVerbose($"Skipped (completed in the ledger '{_ledger.Path}' on {outcome.Entry.Host} at {outcome.Entry.Time}): {outcome.Key}");
                WriteObject(RunFromLedger(outcome.Entry, _data));
                return;
            }
            if (outcome.Failure is { } failure)
            {
                WriteError(ErrorRecords.From(failure, method));
                return;
            }
            if (outcome.Action == SweepAction.Resumed) WriteVerbose($"Resumed from '{outcome.Entry.Checkpoint}': {outcome.Key}");
            result = outcome.Result!;
        }
        // The teacher column names the teacher the method learned from: none for a teacher-free method (CE, BYOT).
        var teacher = result.Teacher is null ? null : given;
        WriteObject(RunFrom(result, teacher, given, _data));
    }

    /// <summary>
    /// The piped object of the Plan parameter set: a teacher (a model, a run, a checkpoint path or file: PowerShell binds
    /// these here when -Student is given by name, as they need no conversion to the row's type), returned as the record's
    /// teacher argument, or a plan row, read by Core into typed values (a malformed cell throws that row's error).
    /// </summary>
    private (KdModelArgument? Teacher, CorePlanRow? Row) ReadPlan()
    {
        if (PlanRow.BaseObject is KdRun or KdModel or string or FileInfo || ArgumentResolution.Unwrap(PlanRow) is PSObject)
        {
            if (Teacher is not null)
                Fail(Core.KdErrorIds.TrainingSettingInvalid, Core.KdErrorKind.InvalidArgument,
                    "a model or run piped into Invoke-Distillation supplies the teacher and nothing else: name the student with -Student, and pass the teacher either through the pipeline or with -Teacher, not both", nameof(Teacher));
            if (Student is null)
                Fail(Core.KdErrorIds.TrainingSettingInvalid, Core.KdErrorKind.InvalidArgument,
                    "a model or run piped into Invoke-Distillation supplies the teacher and nothing else, and no student is named: pass -Student (an architecture name or a model)", nameof(Student));
            return (new KdModelArgument(PlanRow), null);
        }
        var cells = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in PlanRow.Properties) cells[property.Name] = Cell(property.Value);
        return (Teacher, CorePlanRow.Read(cells));
    }

    /// <summary>A plan cell as its .NET value: PSObject wrappers removed, a hashtable of options as a dictionary.</summary>
    private static object? Cell(object? value) => Unwrap(value) switch
    {
        Hashtable options => options.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Unwrap(e.Value), StringComparer.OrdinalIgnoreCase),
        var other => other,
    };

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
            Augmentation = settings.DescribeAugmentation(data.Task),
            Seed = settings.Seed,
            Top1 = result.Top1,
            Top5 = result.Top5,
            BestTop1 = result.BestTop1,
            BestTop5 = result.BestTop5,
            MeanIoU = result.MeanIoU,
            BestMeanIoU = result.BestMeanIoU,
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

    /// <summary>
    /// The run of a row the ledger has completed, as the ledger recorded it: its results and settings, without the
    /// network (Status Skipped; its student is in the checkpoint, which Import-KdModel loads).
    /// </summary>
    private static KdRun RunFromLedger(SweepEntry entry, KdDataset data)
    {
        string Text(string column) => entry.Results.GetValueOrDefault(column, "");
        double Number(string column) => double.TryParse(Text(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
        long Whole(string column) => long.TryParse(Text(column), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
        var terms = Text("LossTerms").Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.Split('=', 2)).Where(t => t.Length == 2)
            .ToDictionary(t => t[0], t => double.Parse(t[1], NumberStyles.Float, CultureInfo.InvariantCulture));
        return new KdRun
        {
            Method = Text("Method"),
            Student = Text("Student"),
            Teacher = Text("Teacher"),
            Dataset = data.Name,
            Status = "Skipped",
            Recipe = Text("Recipe"),
            Epochs = (int)Whole("Epochs"),
            BatchSize = (int)Whole("BatchSize"),
            LearningRate = Number("LearningRate"),
            Seed = Whole("Seed"),
            Top1 = Number("Top1"),
            Top5 = Number("Top5"),
            BestTop1 = Number("BestTop1"),
            BestTop5 = Number("BestTop5"),
            BestEpoch = (int)Whole("BestEpoch"),
            MeanIoU = Number("MeanIoU"),
            BestMeanIoU = double.NaN,
            TrainLoss = Number("TrainLoss"),
            LossTerms = FormatTerms(terms),
            Options = Text("Options"),
            Seconds = Number("Seconds"),
            Checkpoint = entry.Checkpoint,
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
