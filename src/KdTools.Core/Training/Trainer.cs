using System.Diagnostics;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// The training engine: the method's pre-stages, then the main stage, each with its own SGD, epochs, learning rate and
/// schedule; evaluation each epoch, best/last checkpoints, resume and cancellation between batches. Every step runs in
/// its own dispose scope with a generator seeded from (seed, stage, epoch, batch), so a resumed run continues
/// bit-identically and runs in parallel draw nothing from each other. What the networks predict (labels, label loss,
/// metrics) is the job's <see cref="ITrainingTask"/>.
/// </summary>
internal sealed class Trainer(TrainingSettings settings, ILogger? logger = null)
{
    public const string MainStage = "train";

    /// <summary>The stage coordinate of the method's initialisation draws (<see cref="MixSeed"/>).</summary>
    private const int InitializationStream = -1;

    private readonly TrainingSettings _settings = settings;
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    /// <summary>Raised after every batch and at the end of every epoch (on the training thread).</summary>
    public event Action<TrainingProgress>? Progress;

    public event Action<EpochRecord>? EpochCompleted;

    /// <summary>Sees the initial weights and every step (the parity tests); null, the default, costs nothing.</summary>
    internal ITrainingObserver? Observer { get; init; }

    /// <summary>One stage as the loop runs it: the main stage and every pre-stage alike.</summary>
    private sealed record Stage(
        string Name, int Index, int Epochs, double LearningRate, LearningRateSchedule Schedule,
        Func<IEnumerable<(string Name, Parameter Parameter)>> Parameters, Action<StepContext, LossTerms> AddLosses,
        bool TrainsStudent, double TaskLossWeight)
    {
        public bool IsMain => Name == MainStage;
    }

    public TrainingResult Run(TrainingJob job, CancellationToken cancellation = default)
    {
        _settings.Validate();
        Validate(job);
        if (_settings.Threads is int threads) torch.set_num_threads(threads);
        var device = Devices.Resolve(_settings.Device);
        var clock = Stopwatch.StartNew();

        job.Student.to(device);
        job.Teacher?.to(device);
        job.Teacher?.eval();
        job.Student.Normalization ??= job.Dataset.Normalization;
        InitializeMethod(job, device);
        job.Method.Extras?.to(device);
        // What the run produces, evaluates and saves: the student, with the exits the method grows on it (BYOT).
        var network = job.Method.StudentExits is { } exits ? new MultiExitNet(job.Student, exits) : job.Student;

        var state = new RunState();
        using var resumed = job.ResumeFrom is null ? null : TrainingCheckpoint.Load(job.ResumeFrom, job, state);
        Observer?.Started(job);
        if (resumed is not null)
            _log.LogInformation("Resuming {Method} from {Path}: stage {Stage}, epoch {Epoch}, batch {Batch}",
                job.Method.Name, job.ResumeFrom, state.Stage, state.Epoch + 1, state.NextBatch);

        using var best = _settings.KeepBestWeights ? new WeightSnapshot(network) : null;
        var stages = Stages(job);
        int first = Math.Max(0, stages.FindIndex(s => s.Name == state.Stage));
        for (int i = first; i < stages.Count; i++)
        {
            var stage = stages[i];
            if (state.Stage != stage.Name) state.StartStage(stage.Name);
            using var optimizer = new SgdOptimizer(stage.Parameters(), stage.LearningRate, _settings.Momentum, _settings.WeightDecay, _settings.Nesterov);
            using var auxiliary = stage.IsMain && job.Method.AuxiliaryUpdate is { } update ? new AuxiliaryOptimizer(update) : null;
            if (resumed is not null && resumed.Stage == stage.Name)
            {
                optimizer.LoadBuffers(resumed.OptimizerState, job.ResumeFrom!);
                auxiliary?.Optimizer.LoadBuffers(resumed.OptimizerState, job.ResumeFrom!);
            }
            if (!RunStage(job, network, device, state, optimizer, auxiliary, stage, best, cancellation))
                return Finish(job, network, state, clock, cancelled: true);
        }
        if (best is not null && state.Best(job.Task.ScoreMetric) is not null) best.RestoreInto(network);
        return Finish(job, network, state, clock, cancelled: false);
    }

    /// <summary>The pre-stages that run (0 epochs skips one), then the main stage.</summary>
    private List<Stage> Stages(TrainingJob job)
    {
        var method = job.Method;
        var stages = method.PreStages
            .Select((p, k) => (PreStage: p, Index: 1 + k))
            .Where(p => p.PreStage.Epochs > 0)
            .Select(p => new Stage(p.PreStage.Name, p.Index, p.PreStage.Epochs, p.PreStage.LearningRate, p.PreStage.Schedule,
                () => PreStageParameters(job, p.PreStage), p.PreStage.AddLosses, p.PreStage.TrainsStudent, TaskLossWeight: 0))
            .ToList();
        stages.Add(new Stage(MainStage, 0, _settings.Epochs, _settings.LearningRate, _settings.Schedule,
            () => MainParameters(job), method.AddLosses, TrainsStudent: true, method.TaskLossWeight));
        return stages;
    }

    /// <summary>Runs a stage from the state's position; false when cancelled (the resumable checkpoint is written).</summary>
    private bool RunStage(TrainingJob job, ClassifierNet network, Device device, RunState state, SgdOptimizer optimizer,
        AuxiliaryOptimizer? auxiliary, Stage stage, WeightSnapshot? best, CancellationToken cancellation)
    {
        var data = job.Dataset;
        // A trailing batch of one sample breaks batch statistics (BN) and relational losses (RKD, PKT): drop just that one.
        var loader = new BatchLoader(data.Train, _settings.BatchSize, shuffle: true, dropLast: data.Train.Count % _settings.BatchSize == 1);
        var teacherNormalization = job.Teacher is null ? null : job.Teacher.Normalization ?? data.Normalization;

        for (; state.Epoch < stage.Epochs; state.Epoch++, state.NextBatch = 0, state.Accumulator = new EpochAccumulator())
        {
            job.Student.train(stage.TrainsStudent);
            if (job.FreezeBackbone && job.Student is MultiExitNet multi) multi.Backbone.eval();
            job.Method.Extras?.train();
            job.Method.PrepareEpoch(stage.Name);
            job.Teacher?.eval();
            var epochClock = Stopwatch.StartNew();
            using (var orderScope = torch.NewDisposeScope())
            {
                var order = loader.EpochOrder(MixSeed(_settings.Seed, stage.Index, state.Epoch, -1));
                for (; state.NextBatch < loader.BatchCount; state.NextBatch++)
                {
                    if (cancellation.IsCancellationRequested)
                    {
                        state.Accumulator.Seconds += epochClock.Elapsed.TotalSeconds;
                        SaveOnCancel(job, network, state, optimizer, auxiliary);
                        return false;
                    }
                    optimizer.LearningRate = stage.Schedule.RateAt(stage.LearningRate, state.Epoch, stage.Epochs, state.NextBatch, loader.BatchCount);
                    auxiliary?.ScheduleAt(state.Epoch, stage.Epochs, state.NextBatch, loader.BatchCount);
                    long stepSeed = MixSeed(_settings.Seed, stage.Index, state.Epoch, state.NextBatch);
                    using (var random = new Generator((ulong)stepSeed))
                        Step(job, device, loader.GetBatch(order, state.NextBatch), optimizer, auxiliary, stage, state, random, stepSeed, teacherNormalization);
                    Progress?.Invoke(new TrainingProgress(stage.Name, state.Epoch + 1, stage.Epochs, state.NextBatch + 1, loader.BatchCount,
                        state.Accumulator.MeanLoss, optimizer.LearningRate, TimeSpan.FromSeconds(state.Accumulator.Seconds) + epochClock.Elapsed));
                }
            }
            state.Accumulator.Seconds += epochClock.Elapsed.TotalSeconds;
            var record = CloseEpoch(job, network, device, state, stage, stage.Schedule.RateAt(stage.LearningRate, state.Epoch, stage.Epochs, 0, loader.BatchCount));
            if (stage.IsMain && ReferenceEquals(state.Best(job.Task.ScoreMetric), record))
            {
                best?.Capture(network);
                if (_settings.CheckpointDirectory is { } dir)
                    TrainingCheckpoint.SaveModel(Path.Combine(dir, "best.safetensors"), job, network, _settings, record);
            }
            if (_settings.CheckpointDirectory is { } folder)
                SaveResumable(Path.Combine(folder, "last.safetensors"), job, network, state, optimizer, auxiliary, completedEpoch: true);
            // Implicit Scalar conversions in loss formulas are only freed by finalizers; keep them bounded per epoch.
            GC.Collect();
        }
        return true;
    }

    private void Step(TrainingJob job, Device device, Batch batch, SgdOptimizer optimizer, AuxiliaryOptimizer? auxiliary, Stage stage,
        RunState state, Generator random, long stepSeed, InputNormalization? teacherNormalization)
    {
        using var scope = torch.NewDisposeScope();
        var task = job.Task;
        var studentNormalization = job.Student.Normalization!;
        var (inputs, labels) = task.Prepare(batch, studentNormalization, _settings, random, device);
        ModelOutput? teacher = null;
        if (job.Teacher is not null)
        {
            // A teacher trained with other statistics sees the same augmented images, normalised its own way: the
            // augmentation is replayed from a generator seeded like the step's.
            Tensor teacherInputs;
            if (teacherNormalization!.Equals(studentNormalization)) teacherInputs = inputs;
            else
            {
                using var replay = new Generator((ulong)stepSeed);
                teacherInputs = task.Prepare(batch, teacherNormalization, _settings, replay, device).Inputs;
            }
            using var noGrad = torch.no_grad();
            teacher = job.Teacher.Run(teacherInputs);
        }
        // A pre-stage that trains only the method's modules (FT's paraphraser, MHKD/TOFD teacher heads) reads the teacher
        // alone, so the student does not run there.
        var student = stage.TrainsStudent ? task.RunStudent(job.Student, inputs, random) : null;

        var terms = new LossTerms();
        if (stage.TaskLossWeight != 0 && student is not null) terms.Add("ce", stage.TaskLossWeight * task.Loss(student, labels));
        var context = new StepContext(inputs, labels, batch.Indices.to(device), student, teacher, state.Epoch, stage.Epochs, random)
        {
            Draws = Observer is null ? null : new Dictionary<string, Tensor>(),
        };
        stage.AddLosses(context, terms);
        var total = terms.Sum();

        optimizer.ZeroGrad();
        total.backward();
        optimizer.Step();
        // The method's own update (SKD's critic) comes after the student's, from the same outputs; it is reported as a
        // term of its own, outside the student's loss.
        var reported = terms.Items.Select(t => KeyValuePair.Create(t.Key, t.Value.ToDouble())).ToList();
        if (auxiliary is not null) reported.Add(KeyValuePair.Create(auxiliary.Update.Name, auxiliary.Step(context)));

        Observer?.StepCompleted(new StepTrace(state.Stage, state.Epoch, stage.Epochs, state.NextBatch, optimizer.LearningRate, inputs, labels,
            context.Indices, reported, context.Draws!));

        double loss = total.ToDouble();
        if (!double.IsFinite(loss) || !reported.All(t => double.IsFinite(t.Value)))
            throw new KdException(KdErrorIds.TrainingDiverged, KdErrorKind.InvalidOperation,
                $"the {job.Method.Name} loss became {loss} at {state.Stage} epoch {state.Epoch + 1}, batch {state.NextBatch + 1} " +
                $"(terms: {string.Join(", ", reported.Select(t => $"{t.Key}={t.Value:G4}"))}); lower the learning rate or the method's loss weights");
        var hits = student is null ? ((long, long)?)null : task.Hits(student, labels);
        state.Accumulator.Add(hits, loss, reported);
    }

    private EpochRecord CloseEpoch(TrainingJob job, ClassifierNet network, Device device, RunState state, Stage stage, double rate)
    {
        bool evaluate = stage.IsMain && ((state.Epoch + 1) % _settings.EvaluateEvery == 0 || state.Epoch + 1 == stage.Epochs);
        // Not cancellable: a stop during evaluation must still reach the next batch boundary, where the resumable
        // checkpoint is written.
        var test = evaluate ? job.Task.Evaluate(network, job.Dataset, device) : null;
        var acc = state.Accumulator;
        var record = new EpochRecord
        {
            Stage = stage.Name,
            Epoch = state.Epoch + 1,
            LearningRate = rate,
            Nesterov = _settings.Nesterov,
            TrainLoss = acc.MeanLoss,
            TrainAccuracy = acc.Accuracy,
            Terms = acc.MeanTerms,
            Test = test ?? new Dictionary<string, IReadOnlyDictionary<string, double>>(),
            Duration = TimeSpan.FromSeconds(acc.Seconds),
        };
        state.History.Add(record);
        _log.LogInformation("{Method} {Stage} epoch {Epoch}/{Epochs}: lr {Rate:G3}, loss {Loss:F4} ({Terms}), train accuracy {Accuracy:P1}{Test} in {Seconds:F1}s",
            job.Method.Name, stage.Name, record.Epoch, stage.Epochs, rate, record.TrainLoss,
            string.Join(", ", record.Terms.Select(t => $"{t.Key} {t.Value:F4}")), record.TrainAccuracy, DescribeTest(record, job.Task), acc.Seconds);
        EpochCompleted?.Invoke(record);
        return record;
    }

    /// <summary>", test loss 1.23, top1 0.456, top5 0.9; head1 top1 0.31" or "" when not evaluated.</summary>
    private static string DescribeTest(EpochRecord record, ITrainingTask task) => !record.Evaluated ? "" :
        ", test " + string.Join(", ", record.Test[Evaluation.ExitNames.Final].Where(m => !MetricNames.IsClassIoU(m.Key)).Select(m => $"{m.Key} {m.Value:G4}")) +
        string.Concat(record.Test.Where(e => e.Key != Evaluation.ExitNames.Final)
            .Select(e => $"; {e.Key} {task.ScoreMetric} {e.Value.GetValueOrDefault(task.ScoreMetric, double.NaN):G4}"));

    private void SaveOnCancel(TrainingJob job, ClassifierNet network, RunState state, SgdOptimizer optimizer, AuxiliaryOptimizer? auxiliary)
    {
        var folder = _settings.CheckpointDirectory
            ?? Path.Combine(Path.GetTempPath(), "kdtools", $"{job.Method.Name}-{job.Student.Architecture}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        var path = SaveResumable(Path.Combine(folder, "last.safetensors"), job, network, state, optimizer, auxiliary, completedEpoch: false);
        _log.LogWarning("Cancelled at {Stage} epoch {Epoch}, batch {Batch}; resumable checkpoint saved to {Path}",
            state.Stage, state.Epoch + 1, state.NextBatch + 1, path);
    }

    private string SaveResumable(string path, TrainingJob job, ClassifierNet network, RunState state, SgdOptimizer optimizer,
        AuxiliaryOptimizer? auxiliary, bool completedEpoch)
    {
        // After a completed epoch the saved position is the start of the next one.
        var position = completedEpoch ? state.Snapshot(epoch: state.Epoch + 1, batch: 0) : state.Snapshot(state.Epoch, state.NextBatch);
        TrainingCheckpoint.SaveResumable(path, job, network, _settings, position, optimizer, auxiliary?.Optimizer);
        state.LastCheckpoint = path;
        return path;
    }

    private TrainingResult Finish(TrainingJob job, ClassifierNet network, RunState state, Stopwatch clock, bool cancelled)
    {
        var best = state.Best(job.Task.ScoreMetric);
        return new TrainingResult
        {
            Network = network,
            History = state.History.ToList(),
            Cancelled = cancelled,
            Duration = clock.Elapsed,
            EpochsCompleted = state.History.Count(h => h.Stage == MainStage),
            LastEvaluated = state.LastEvaluated,
            Best = best,
            ExtraParameters = job.Method.ExtraParameters,
            LastCheckpoint = state.LastCheckpoint,
            BestCheckpoint = _settings.CheckpointDirectory is { } dir && best is not null ? Path.Combine(dir, "best.safetensors") : null,
        };
    }

    /// <summary>The student's and the method's extra parameters, except those the method's auxiliary update trains.</summary>
    private static IEnumerable<(string, Parameter)> MainParameters(TrainingJob job)
    {
        foreach (var (name, p) in job.Student.named_parameters()) yield return ($"model.{name}", p);
        if (job.Method.Extras is not { } extras) yield break;
        var auxiliary = job.Method.AuxiliaryUpdate?.Parameters().Select(p => p.Parameter.Handle).ToHashSet() ?? [];
        foreach (var (name, p) in extras.named_parameters())
            if (!auxiliary.Contains(p.Handle)) yield return ($"extras.{name}", p);
    }

    private static IEnumerable<(string, Parameter)> PreStageParameters(TrainingJob job, PreStage stage)
    {
        foreach (var (p, k) in stage.ExtraParameters().Select((p, k) => (p, k))) yield return ($"{stage.Name}.{k}", p);
        if (stage.TrainsStudent)
            foreach (var (name, p) in job.Student.named_parameters()) yield return ($"model.{name}", p);
    }

    private void Validate(TrainingJob job)
    {
        var method = job.Method;
        if (method.NeedsTeacher && job.Teacher is null)
            throw new KdException(KdErrorIds.MethodNeedsTeacher, KdErrorKind.InvalidArgument,
                $"method {method.Name} needs a teacher; give it one, or use a teacher-free method such as CE");
        var (task, dataset) = (job.Dataset.Task, job.Dataset.Name);
        TaskCompatibility.RequireMethod(method.Name, method.Tasks, task, dataset);
        TaskCompatibility.RequireNetwork(job.Student, "student", task, dataset);
        if (job.Teacher is not null) TaskCompatibility.RequireNetwork(job.Teacher, "teacher", task, dataset);
        if (job.Student.NumClasses != job.Dataset.Classes)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the student ({job.Student.Architecture}) has {job.Student.NumClasses} classes but dataset '{job.Dataset.Name}' has {job.Dataset.Classes}; create the student for {job.Dataset.Classes} classes");
        if (job.Teacher is { } teacher && teacher.NumClasses != job.Student.NumClasses)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the teacher ({teacher.Architecture}) has {teacher.NumClasses} classes but the student has {job.Student.NumClasses}; both must be trained for dataset '{job.Dataset.Name}' ({job.Dataset.Classes} classes)");
        foreach (var (role, network) in new[] { ("student", job.Student), ("teacher", job.Teacher) })
            if (network?.Normalization is { } normalization && normalization.Channels != job.Dataset.Channels)
                throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                    $"the {role} ({network.Architecture}) was trained on {normalization.Channels}-channel images but dataset '{job.Dataset.Name}' has {job.Dataset.Channels} channels");
    }

    /// <summary>
    /// Runs the method's Initialize with the feature shapes of both networks, with libtorch's global generator seeded
    /// from the run's seed and locked (its modules' default initialisation draws from it) and a seeded generator for
    /// explicit draws.
    /// </summary>
    private void InitializeMethod(TrainingJob job, Device device)
    {
        long seed = MixSeed(_settings.Seed, InitializationStream, 0, 0);
        using var random = new Generator((ulong)seed);
        var setup = ProbeFeatures(job, device, random);
        GlobalGenerator.Seeded(seed, () =>
        {
            job.Method.Initialize(setup);
            return 0;
        });
    }

    /// <summary>Feature shapes of both networks from a 2-sample forward pass in eval mode, each on its own normalisation.</summary>
    private static MethodSetup ProbeFeatures(TrainingJob job, Device device, Generator random)
    {
        static Dictionary<string, long[]> Shapes(ModelOutput o) => o.Features.ToDictionary(f => f.Key, f => f.Value.shape);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var set = job.Dataset.Test.Count >= 2 ? job.Dataset.Test : job.Dataset.Train;
        var images = set.Images.narrow(0, 0, Math.Min(2, set.Count));
        Tensor Inputs(ClassifierNet network)
        {
            var normalization = network.Normalization ?? job.Dataset.Normalization;
            return BatchAugmentation.Prepare(images, normalization.Mean, normalization.Std, AugmentationPolicy.None, generator: null).to(device);
        }
        bool wasTraining = job.Student.training;
        job.Student.eval();
        try
        {
            var student = job.Student.Run(Inputs(job.Student));
            var teacher = job.Teacher?.Run(Inputs(job.Teacher));
            return new MethodSetup(Shapes(student), teacher is null ? null : Shapes(teacher), job.Dataset.Classes, device,
                student.Exits.Keys.ToList(), teacher?.Exits.Keys.ToList(), job.Dataset.Train.Count, random,
                job.Dataset.Task == PredictionTask.Classification ? job.Dataset.Train.Labels : null, job.Teacher is { } t ? t.PreActivationNorm : null, images.shape);
        }
        finally
        {
            job.Student.train(wasTraining);
        }
    }

    /// <summary>SplitMix64 over the coordinates of a step: independent, reproducible streams per batch.</summary>
    internal static long MixSeed(long seed, int stage, int epoch, int batch)
    {
        ulong z = (ulong)seed;
        foreach (var part in new[] { (ulong)stage, (ulong)(uint)epoch, (ulong)(uint)batch })
        {
            z += 0x9E3779B97F4A7C15UL + part;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
        }
        return (long)(z & 0x7FFF_FFFF_FFFF_FFFFUL);
    }
}
