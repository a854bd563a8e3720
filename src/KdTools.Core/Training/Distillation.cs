using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Training;

/// <summary>
/// One distillation (or, with the CE method and no teacher, plain training): what to train, from whom, how.
/// Give the student as an architecture name (a fresh network initialised from the settings' seed) or as a network
/// (trained in place), and the method as a name with options or as a method object.
/// </summary>
public sealed record DistillationRequest
{
    public required KdDataset Dataset { get; init; }

    /// <summary>Architecture of a fresh student, initialised from <see cref="TrainingSettings.Seed"/>.</summary>
    public string? StudentArchitecture { get; init; }

    /// <summary>A network to train in place instead (a copy of a trained model, a multi-exit network).</summary>
    public ClassifierNet? Student { get; init; }

    /// <summary>The frozen teacher; null for teacher-free methods (it is ignored by them).</summary>
    public ClassifierNet? Teacher { get; init; }

    /// <summary>A registered method's name (<see cref="MethodRegistry"/>); ignored when <see cref="Method"/> is set.</summary>
    public string MethodName { get; init; } = "KD";

    /// <summary>Options of <see cref="MethodName"/> by name, case-insensitively; unknown names fail.</summary>
    public IReadOnlyDictionary<string, object?>? MethodOptions { get; init; }

    /// <summary>
    /// Weight α of the Hinton KD term: a feature method's KdWeight option, KD's (and TAKD's) Alpha. Overrides the
    /// same option in <see cref="MethodOptions"/>; a method without a KD term fails.
    /// </summary>
    public double? KdWeight { get; init; }

    /// <summary>A method object to use instead of <see cref="MethodName"/>; the caller keeps it (and disposes it).</summary>
    public DistillationMethod? Method { get; init; }

    /// <summary>The training settings, e.g. a recipe's (<see cref="TrainingRecipes"/>) with overrides.</summary>
    public TrainingSettings Settings { get; init; } = new();

    /// <summary>
    /// A resumable checkpoint (<c>*-last.safetensors</c>) of an interrupted run of the same request: the same settings,
    /// method and options, dataset contents and teacher weights, or the resume is refused listing the differences.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Start a new run even when the checkpoint folder holds an unfinished run of the same configuration (by default
    /// refused with <see cref="KdErrorIds.CheckpointUnfinished"/>: the new run would redo its work).
    /// </summary>
    public bool StartOver { get; init; }

    /// <summary>
    /// The name of the run's checkpoint files (<c>&lt;name&gt;-last.safetensors</c>) instead of one made from the method,
    /// student, seed, start time and a random suffix; a sweep names a row's run by its key so a rerun finds it. A method's
    /// earlier runs (TAKD's assistant) keep generated names.
    /// </summary>
    public string? RunName { get; init; }

    /// <summary>Receives the engine's per-epoch log (Information), cancellation notes (Warning).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Called after every batch and epoch, on the training thread.</summary>
    public Action<TrainingProgress>? Progress { get; init; }
}

/// <summary>
/// What a run produced: the trained network, its history, every accuracy (all from the same epoch), what trained it,
/// and its checkpoints. The network is a <see cref="MultiExitNet"/> when the method leaves exits (BYOT's branches).
/// </summary>
public sealed record DistillationResult
{
    /// <summary>The trained student (with the best epoch's weights when <see cref="TrainingSettings.KeepBestWeights"/>).</summary>
    public required ClassifierNet Network { get; init; }

    /// <summary>The network that taught the run (for TAKD the assistant); null without one.</summary>
    public ClassifierNet? Teacher { get; init; }

    public required string Method { get; init; }

    /// <summary>The method's options as used, "Name=value;…" (culture-invariant).</summary>
    public required string MethodOptions { get; init; }

    public required TrainingSettings Settings { get; init; }

    /// <summary>The recipe the settings came from.</summary>
    public string Recipe => Settings.Recipe;

    /// <summary>Every epoch of every stage, pre-stages first.</summary>
    public required IReadOnlyList<EpochRecord> History { get; init; }

    /// <summary>Pre-stages that ran, with their epochs, in order ("hint", 30).</summary>
    public required IReadOnlyList<(string Name, int Epochs)> PreStages { get; init; }

    public required bool Cancelled { get; init; }

    /// <summary>Main-stage epochs completed.</summary>
    public required int EpochsCompleted { get; init; }

    /// <summary>
    /// The epoch whose accuracies the run reports: the best one when the run keeps the best weights, else the last
    /// evaluated one; null when nothing was evaluated.
    /// </summary>
    public required EpochRecord? Reported { get; init; }

    /// <summary>The evaluated main-stage epoch with the best score, null when nothing was evaluated.</summary>
    public required EpochRecord? Best { get; init; }

    public double Top1 => Reported?.TestTop1 ?? double.NaN;
    public double Top5 => Reported?.TestTop5 ?? double.NaN;

    /// <summary>Top-1 of every extra exit and "ensemble" at <see cref="Reported"/>'s epoch.</summary>
    public IReadOnlyDictionary<string, double> ExitTop1 => Reported?.ExitTop1 ?? new Dictionary<string, double>();

    /// <summary>Segmentation: mean IoU of <see cref="Reported"/>'s epoch (NaN for classification).</summary>
    public double MeanIoU => Reported?.TestMeanIoU ?? double.NaN;

    /// <summary>Segmentation: pixel accuracy of <see cref="Reported"/>'s epoch (NaN for classification).</summary>
    public double PixelAccuracy => Reported?.TestPixelAccuracy ?? double.NaN;

    /// <summary>Segmentation: the per-class IoUs of <see cref="Reported"/>'s epoch (NaN for a class that occurs nowhere).</summary>
    public IReadOnlyList<double> ClassIoU => Reported?.TestClassIoU(Network.NumClasses) ?? [];

    public double BestMeanIoU => Best?.TestMeanIoU ?? double.NaN;

    public double BestTop1 => Best?.TestTop1 ?? double.NaN;
    public double BestTop5 => Best?.TestTop5 ?? double.NaN;

    /// <summary>1-based main-stage epoch of <see cref="Best"/>; 0 when nothing was evaluated.</summary>
    public int BestEpoch => Best?.Epoch ?? 0;

    /// <summary>Trainable parameters the method added that the trained network does not keep (mdistiller's count).</summary>
    public required long ExtraParameters { get; init; }

    /// <summary>
    /// The run's own resumable checkpoint (<c>&lt;run&gt;-last.safetensors</c>, written every epoch and on cancel), when
    /// it holds the run's final state; null otherwise (no checkpoint folder, or its last write failed).
    /// </summary>
    public string? LastCheckpoint { get; init; }

    /// <summary>The run's best-epoch model file (<c>&lt;run&gt;-best.safetensors</c>), if written.</summary>
    public string? BestCheckpoint { get; init; }

    /// <summary>
    /// The last checkpoint write that failed (<see cref="KdErrorIds.CheckpointWriteFailed"/>) while training went on;
    /// null when every write succeeded. The network is complete either way.
    /// </summary>
    public KdException? CheckpointFailure { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>Runs the method's protocol made before this one, in order (TAKD: the assistant's); empty for most methods.</summary>
    public IReadOnlyList<DistillationResult> EarlierRuns { get; init; } = [];

    /// <summary>Main-stage records only.</summary>
    public IEnumerable<EpochRecord> TrainEpochs => History.Where(h => h.Stage == Trainer.MainStage);
}

/// <summary>
/// The entry point for training a network: a distillation, a teacher (the CE method without a teacher), or a
/// method's whole protocol (TAKD's teacher → assistant → student). Head fine-tuning has its own,
/// <see cref="HeadFineTuning"/>.
/// </summary>
public static class Distillation
{
    /// <summary>Runs the request; on cancellation the result says so and names the resumable checkpoint.</summary>
    public static DistillationResult Run(DistillationRequest request, CancellationToken cancellation = default)
    {
        request.Settings.Validate();
        var method = request.Method ?? MethodRegistry.Create(request.MethodName, request.MethodOptions, request.KdWeight);
        try
        {
            Export.OnnxRuntimeNet.RequireTrainable(request.Student, "student");
            Export.OnnxRuntimeNet.RequireTrainable(request.Teacher, "teacher");
            // A quick recipe's run is short by design: pre-stages the caller did not size scale with it.
            if (request.Method is null && TrainingRecipes.ScalesPreStages(request.Settings.Recipe))
                method.Options.FitToQuickRun(request.Settings.Epochs);
            var teacher = method.NeedsTeacher ? request.Teacher : null;
            RequireOneTask(request, method, teacher);
            if (method.NeedsTeacher && teacher is null)
                throw new KdException(KdErrorIds.MethodNeedsTeacher, KdErrorKind.InvalidArgument,
                    $"method {method.Name} needs a teacher; give it one, or use a teacher-free method such as CE");
            var student = request.Student ?? ArchitectureRegistry.Create(
                request.StudentArchitecture ?? throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                    "the request names no student: give an architecture or a network"),
                request.Dataset.Classes, request.Settings.Seed);

            var earlier = new List<DistillationResult>();
            var chain = method.IntermediateTeachers;
            foreach (var step in chain)
            {
                var assistant = ArchitectureRegistry.Create(step.Architecture, request.Dataset.Classes, request.Settings.Seed);
                var settings = request.Settings with { Epochs = step.Epochs > 0 ? step.Epochs : request.Settings.Epochs };
                using var stepMethod = step.CreateMethod();
                var result = Train(new TrainingJob
                    {
                        Student = assistant, Teacher = teacher, Method = stepMethod, Dataset = request.Dataset, StartOver = request.StartOver,
                    }, settings, request.Logger, request.Progress, step.Name, cancellation);
                earlier.Add(result);
                if (result.Cancelled) return result with { EarlierRuns = earlier.SkipLast(1).ToList() };
                teacher = assistant;
                teacher.eval();
            }

            var final = Train(new TrainingJob
            {
                Student = student,
                Teacher = teacher,
                Method = method,
                Dataset = request.Dataset,
                ResumeFrom = request.ResumeFrom,
                StartOver = request.StartOver,
                RunName = request.RunName,
            }, request.Settings, request.Logger, request.Progress, run: "", cancellation);
            return final with { EarlierRuns = earlier };
        }
        finally
        {
            if (request.Method is null) method.Dispose();
        }
    }

    /// <summary>The dataset's task is the run's: the method, the student (built or named) and the teacher must share it.</summary>
    private static void RequireOneTask(DistillationRequest request, DistillationMethod method, ClassifierNet? teacher)
    {
        var (task, dataset) = (request.Dataset.Task, request.Dataset.Name);
        TaskCompatibility.RequireMethod(method.Name, method.Tasks, task, dataset);
        if (request.Student is { } student) TaskCompatibility.RequireNetwork(student, "student", task, dataset);
        else if (request.StudentArchitecture is { } name)
            TaskCompatibility.RequireArchitecture(name, ArchitectureRegistry.Get(name).Task, "student", task, dataset);
        if (teacher is not null) TaskCompatibility.RequireNetwork(teacher, "teacher", task, dataset);
    }

    /// <summary>Runs the engine on one job and assembles its result (the student with the method's exits).</summary>
    internal static DistillationResult Train(TrainingJob job, TrainingSettings settings, ILogger? logger,
        Action<TrainingProgress>? progress, string run, CancellationToken cancellation)
    {
        var trainer = new Trainer(settings, logger);
        if (progress is not null)
            trainer.Progress += run.Length == 0 ? progress : p => progress(p with { Run = run });
        var result = trainer.Run(job, cancellation);
        return Result(job, settings, result);
    }

    internal static DistillationResult Result(TrainingJob job, TrainingSettings settings, TrainingResult result)
    {
        var method = job.Method;
        // Self-distillation branches trained inside the method's modules are the student's own exits now: disposing
        // the method must leave them alive.
        if (method.StudentExits is not null) method.ReleaseExtras();
        return new DistillationResult
        {
            Network = result.Network,
            Teacher = job.Teacher,
            Method = method.Name,
            MethodOptions = method.Options.ToCompactString(),
            Settings = settings,
            History = result.History,
            PreStages = method.PreStages.Where(p => p.Epochs > 0).Select(p => (p.Name, p.Epochs)).ToList(),
            Cancelled = result.Cancelled,
            EpochsCompleted = result.EpochsCompleted,
            Reported = settings.KeepBestWeights ? result.Best : result.LastEvaluated,
            Best = result.Best,
            ExtraParameters = result.ExtraParameters,
            LastCheckpoint = result.LastCheckpoint,
            BestCheckpoint = result.BestCheckpoint,
            CheckpointFailure = result.CheckpointFailure,
            Duration = result.Duration,
        };
    }
}
