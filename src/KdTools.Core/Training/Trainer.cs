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
/// schedule; evaluation each epoch, best/last checkpoints (<see cref="RunFiles"/>), resume and cancellation between
/// batches, divergence checks at each epoch's end. Every step runs in its own dispose scope with a generator seeded
/// from (seed, stage, epoch, batch), so a resumed run continues bit-identically and runs in parallel draw nothing from
/// each other. What the networks predict (labels, label loss, metrics) is the job's <see cref="ITrainingTask"/>.
/// </summary>
internal sealed class Trainer(TrainingSettings settings, ILogger? logger = null, EngineOptions? engine = null)
{
    public const string MainStage = "train";

    /// <summary>The loss term of the labels (the task loss, weighted by the method's <see cref="DistillationMethod.TaskLossWeight"/>).</summary>
    private const string TaskTerm = "ce";

    /// <summary>The stage coordinate of the method's initialisation draws (<see cref="MixSeed"/>).</summary>
    private const int InitializationStream = -1;

    /// <summary>An epoch whose mean loss is this many times the stage's first loss has diverged.</summary>
    private const double DivergedLossRatio = 1000;

    /// <summary>
    /// An epoch whose mean label loss is this many times its starting value (at least that of a uniform guess, ln C)
    /// while the objective itself did not fall has diverged. A distillation objective that falls may raise the label
    /// loss (a weak teacher's relations pull the student away from the labels): that is the method working, not SGD
    /// running away.
    /// </summary>
    private const double DivergedTaskLossRatio = 3;

    private readonly TrainingSettings _settings = settings;
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    /// <summary>Raised after every batch and at the end of every epoch (on the training thread).</summary>
    public event Action<TrainingProgress>? Progress;

    /// <summary>How the run is computed (<see cref="EngineOptions"/>): the defaults unless a test or the bench says otherwise.</summary>
    private readonly EngineOptions _engine = engine ?? EngineOptions.Default;

    /// <summary>The running job's teacher-output cache, if it has one.</summary>
    private TeacherOutputCache? _teacherOutputs;

    /// <summary>Where the last run's time went (the bench reads it).</summary>
    internal TrainingTimings Timings { get; private set; } = new();

    /// <summary>One stage as the loop runs it: the main stage and every pre-stage alike.</summary>
    private sealed record Stage(
        string Name, int Index, int Epochs, double LearningRate, LearningRateSchedule Schedule,
        Func<IEnumerable<(string Name, Parameter Parameter)>> Parameters, Action<StepContext, LossTerms> AddLosses,
        bool TrainsStudent, double TaskLossWeight, string? LearningRateOption = null)
    {
        public bool IsMain => Name == MainStage;
    }

    /// <summary>The option that weights each loss term seen in this run (<see cref="LossTerms.WeightOptions"/>), for divergence messages.</summary>
    private readonly Dictionary<string, string> _termWeights = [];

    public TrainingResult Run(TrainingJob job, CancellationToken cancellation = default)
    {
        // The job and settings come checked (RunConfiguration): the engine trusts them.
        if (_settings.Threads is int threads) torch.set_num_threads(threads);
        var device = Devices.Resolve(_settings.Device);
        var clock = Stopwatch.StartNew();
        Timings = new TrainingTimings();

        foreach (var warning in InputChecks.SizeWarnings(job))
            _log.LogWarning("{Warning}", warning);
        job.Student.to(device);
        job.Teacher?.to(device);
        job.Teacher?.eval();
        job.Student.Normalization ??= job.Dataset.Normalization;
        job.Student.InputSize = new ImageSize(job.Dataset.Height, job.Dataset.Width);
        InitializeMethod(job, device);
        job.Method.Extras?.to(device);
        // What the run produces, evaluates and saves: the student, with the exits the method grows on it (BYOT).
        var network = job.Method.StudentExits is { } exits ? new MultiExitNet(job.Student, exits) : job.Student;

        var identity = RunIdentity.Of(job, _settings);
        var files = RunFiles.For(job, _settings);
        var state = new RunState();
        using var resumed = job.ResumeFrom is null ? null : TrainingCheckpoint.Load(job.ResumeFrom, job, state, identity);
        if (resumed is null && !job.StartOver && files.Folder is { } folder && RunFiles.FindUnfinished(folder, identity) is { } unfinished)
            throw new KdException(KdErrorIds.CheckpointUnfinished, KdErrorKind.InvalidOperation,
                $"checkpoint folder '{folder}' holds an unfinished run of this same configuration, stopped at {unfinished.Position} " +
                $"(or still running): '{unfinished.Path}'; resume it from that checkpoint, or start a new run beside it anyway", unfinished.Path);
        _engine.Observer?.Started(job);
        if (resumed is not null)
            _log.LogInformation("Resuming {Method} from {Path}: stage {Stage}, epoch {Epoch}, batch {Batch}",
                job.Method.Name, job.ResumeFrom, state.Stage, state.Epoch + 1, state.NextBatch);
        // The teacher runs as a private copy with its BatchNorms folded into its convolutions; the caller's is untouched.
        bool teacherTrains = job.Teacher is not null && job.Method.TeacherInTrainMode;
        using var frozenTeacher = job.Teacher is null || !_engine.FastPaths || teacherTrains ? null
            : FrozenTeacher.Create(job.Teacher, job.Dataset.Channels, job.Dataset.Height, job.Dataset.Width, device);
        // A teacher in train mode updates its BatchNorm averages: it runs as a private copy, the caller's stays as it was.
        using var trainingTeacher = teacherTrains ? TrainModeCopy(job) : null;
        trainingTeacher?.to(device);
        job = job with { Teacher = trainingTeacher ?? frozenTeacher?.Network ?? job.Teacher };
        using var teacherOutputs = _engine.CacheTeacherOutputs && !teacherTrains ? TeacherOutputCache.For(job, _settings.Augmentation) : null;
        _teacherOutputs = teacherOutputs;

        var run = new ActiveRun(job, network, identity, files, state);
        using var best = _settings.KeepBestWeights ? new WeightSnapshot(network) : null;
        if (best is not null && resumed is not null) resumed.RestoreBest(best);
        run.Best = best;
        // Writing the starting point first proves the folder takes checkpoints before any work can be lost to it.
        if (files.Folder is not null) SaveResumable(run, files.Last, optimizer: null, completedEpoch: false, tolerateFailure: false);

        _termWeights.Clear();
        var stages = Stages(job);
        var lengths = job.Method.PreStages.Where(p => p.Epochs > 0).ToDictionary(p => p.Name, p => p.EpochsOption);
        _log.LogInformation("{Method} stages: {Stages}", job.Method.Name, string.Join(", ", stages.Select(s =>
            $"{s.Name} {s.Epochs} epoch(s) at lr {s.LearningRate:G3}" +
            (lengths.GetValueOrDefault(s.Name) is { } option ? $" ({option} = {s.Epochs}, recipe {_settings.Recipe})" : ""))));
        int first = Math.Max(0, stages.FindIndex(s => s.Name == state.Stage));
        for (int i = first; i < stages.Count; i++)
        {
            var stage = stages[i];
            if (state.Stage != stage.Name) state.StartStage(stage.Name);
            using var optimizer = new SgdOptimizer(stage.Parameters(), stage.LearningRate, _settings.Momentum, _settings.WeightDecay, _settings.Nesterov);
            using var auxiliary = stage.IsMain && job.Method.AuxiliaryUpdate is { } update ? new AuxiliaryOptimizer(update) : null;
            run.Auxiliary = auxiliary;
            if (resumed is not null && resumed.Stage == stage.Name)
            {
                optimizer.LoadBuffers(resumed.OptimizerState, job.ResumeFrom!);
                auxiliary?.Optimizer.LoadBuffers(resumed.OptimizerState, job.ResumeFrom!);
            }
            if (!RunStage(run, device, optimizer, stage, i == stages.Count - 1, cancellation))
                return Finish(run, clock, cancelled: true);
        }
        if (best is not null && state.Best(job.Task.ScoreMetric) is not null) best.RestoreInto(network);
        return Finish(run, clock, cancelled: false);
    }

    /// <summary>The copy of the teacher that a train-mode method runs (<see cref="DistillationMethod.TeacherInTrainMode"/>).</summary>
    private static ClassifierNet TrainModeCopy(TrainingJob job)
    {
        try
        {
            return ArchitectureRegistry.Clone(job.Teacher!);
        }
        catch (KdException e) when (e.ErrorId == KdErrorIds.ArchitectureUnknown)
        {
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"{job.Method.Name} runs its teacher in train mode on a private copy, but the teacher's architecture '{job.Teacher!.Architecture}' cannot be rebuilt to copy it; " +
                "use -MethodOption @{ TeacherMode = 'Eval' }", "TeacherMode", e);
        }
    }

    /// <summary>What the stages of one run share.</summary>
    private sealed record ActiveRun(TrainingJob Job, ClassifierNet Network, RunIdentity Identity, RunFiles Files, RunState State)
    {
        public WeightSnapshot? Best { get; set; }

        /// <summary>The method's second optimisation in the main stage (SKD's critic), saved and restored with the stage's optimizer.</summary>
        public AuxiliaryOptimizer? Auxiliary { get; set; }
    }

    /// <summary>The pre-stages that run (0 epochs skips one), then the main stage.</summary>
    private List<Stage> Stages(TrainingJob job)
    {
        var method = job.Method;
        var stages = method.PreStages
            .Select((p, k) => (PreStage: p, Index: 1 + k))
            .Where(p => p.PreStage.Epochs > 0)
            .Select(p => new Stage(p.PreStage.Name, p.Index, p.PreStage.Epochs, p.PreStage.LearningRate ?? _settings.LearningRate, p.PreStage.Schedule,
                () => PreStageParameters(job, p.PreStage), p.PreStage.AddLosses, p.PreStage.TrainsStudent, TaskLossWeight: 0,
                p.PreStage.LearningRateOption))
            .ToList();
        stages.Add(new Stage(MainStage, 0, _settings.Epochs, _settings.LearningRate, _settings.Schedule,
            () => MainParameters(job), method.AddLosses, TrainsStudent: true, method.TaskLossWeight));
        return stages;
    }

    /// <summary>Runs a stage from the state's position; false when cancelled (the resumable checkpoint is written).</summary>
    /// <param name="last">Whether this is the run's last stage (its last epoch finishes the run).</param>
    private bool RunStage(ActiveRun run, Device device, SgdOptimizer optimizer, Stage stage, bool last, CancellationToken cancellation)
    {
        var (job, network, state) = (run.Job, run.Network, run.State);
        var data = job.Dataset;
        // A trailing batch of one sample breaks batch statistics (BN) and relational losses (RKD, PKT): drop just that one.
        using var loader = new BatchLoader(data.Train, _settings.BatchSize, shuffle: true, dropLast: data.Train.Count % _settings.BatchSize == 1);
        var teacherNormalization = job.Teacher is null ? null : job.Teacher.Normalization ?? data.Normalization;

        for (; state.Epoch < stage.Epochs; state.Epoch++, state.NextBatch = 0, state.Accumulator = new EpochAccumulator())
        {
            job.Student.train(stage.TrainsStudent);
            if (job.FreezeBackbone && job.Student is MultiExitNet multi) multi.Backbone.eval();
            job.Method.Extras?.train();
            job.Method.PrepareEpoch(stage.Name);
            // A pre-stage (TOFD's teacher heads) learns on the frozen teacher; train mode is the main stage's.
            job.Teacher?.train(job.Method.TeacherInTrainMode && stage.IsMain);
            var epochClock = Stopwatch.StartNew();
            using (var orderScope = torch.NewDisposeScope())
            {
                var order = loader.EpochOrder(MixSeed(_settings.Seed, stage.Index, state.Epoch, -1));
                int epoch = state.Epoch;
                using var prefetcher = new StepInputPrefetcher(b => StepInputs.Prepare(loader, order, b, MixSeed(_settings.Seed, stage.Index, epoch, b),
                    job.Task, job.Student.Normalization!, teacherNormalization, _settings, device, _engine.FastPaths), loader.BatchCount, _engine.PrepareBatchesAhead);
                for (; state.NextBatch < loader.BatchCount; state.NextBatch++)
                {
                    if (cancellation.IsCancellationRequested)
                    {
                        state.Accumulator.Seconds += epochClock.Elapsed.TotalSeconds;
                        SaveOnCancel(run, optimizer);
                        return false;
                    }
                    optimizer.LearningRate = stage.Schedule.RateAt(stage.LearningRate, state.Epoch, stage.Epochs, state.NextBatch, loader.BatchCount);
                    run.Auxiliary?.ScheduleAt(state.Epoch, stage.Epochs, state.NextBatch, loader.BatchCount);
                    long waitStart = Stopwatch.GetTimestamp();
                    using (var inputs = prefetcher.Take(state.NextBatch))
                    {
                        Timings.InputWait += Stopwatch.GetElapsedTime(waitStart).TotalSeconds;
                        Timings.InputPreparation += inputs.PreparationSeconds;
                        StepOrExplain(job, inputs, optimizer, run.Auxiliary, stage, state, loader.BatchCount);
                    }
                    Progress?.Invoke(new TrainingProgress(stage.Name, state.Epoch + 1, stage.Epochs, state.NextBatch + 1, loader.BatchCount,
                        state.Accumulator.MeanLoss, optimizer.LearningRate, TimeSpan.FromSeconds(state.Accumulator.Seconds) + epochClock.Elapsed));
                }
            }
            state.Accumulator.Seconds += epochClock.Elapsed.TotalSeconds;
            var record = CloseEpoch(job, network, device, state, stage, stage.Schedule.RateAt(stage.LearningRate, state.Epoch, stage.Epochs, 0, loader.BatchCount));
            if (_engine.StopOnDivergence) RequireConvergence(job, state, stage, record, optimizer.LearningRate);
            if (stage.IsMain && ReferenceEquals(state.Best(job.Task.ScoreMetric), record))
            {
                run.Best?.Capture(network);
                if (run.Files.Best is { } bestFile)
                    state.BestCheckpoint = TryWrite(run, bestFile, () => TrainingCheckpoint.SaveModel(bestFile, job, network, _settings, record));
            }
            if (run.Files.Folder is not null)
                SaveResumable(run, run.Files.Last, optimizer, completedEpoch: true, tolerateFailure: true,
                    finished: last && state.Epoch + 1 == stage.Epochs);
            // Implicit Scalar conversions in loss formulas are only freed by finalizers; keep them bounded per epoch.
            GC.Collect();
            NativeHeap.Trim();
        }
        return true;
    }

    /// <summary>
    /// Stops a run whose loss has run away (<see cref="KdErrorIds.TrainingDiverged"/>): an epoch's mean loss far above
    /// the stage's first, or, with an objective that did not fall, its label loss risen well above its start for a whole
    /// epoch. Non-finite losses are caught at the step.
    /// </summary>
    private void RequireConvergence(TrainingJob job, RunState state, Stage stage, EpochRecord record, double learningRate)
    {
        string? why = null;
        if (state.StageStartLoss is { } start && start > 0 && record.TrainLoss > DivergedLossRatio * start)
            why = $"its mean loss {record.TrainLoss:G3} is {record.TrainLoss / start:G2} times the stage's first, {start:G3}";
        else if (state.StageStartTaskLoss is { } startTask && stage.TaskLossWeight > 0 && record.Terms.TryGetValue(TaskTerm, out var task)
                 && (state.StageStartLoss is not { } first || record.TrainLoss >= first))
        {
            double reference = Math.Max(startTask, Math.Log(Math.Max(2, job.Dataset.Classes)));
            double mean = task / stage.TaskLossWeight;
            if (mean > DivergedTaskLossRatio * reference)
                why = $"its mean label loss rose over the whole epoch to {mean:G3}, more than {DivergedTaskLossRatio} times its start ({reference:G3}), " +
                      $"while its objective did not fall (mean {record.TrainLoss:G3})";
        }
        if (why is null) return;
        var grown = GrownTerm(record.Terms, state.StageStartTerms);
        throw new KdException(KdErrorIds.TrainingDiverged, KdErrorKind.InvalidOperation,
            $"the {job.Method.Name} run diverged in stage '{stage.Name}' epoch {record.Epoch}: {why}, with the learning rate at {learningRate:G3}" +
            (grown is null ? "" : $"; the term that grew most is '{grown}'") +
            $" (epoch terms: {string.Join(", ", record.Terms.Select(t => $"{t.Key}={t.Value:G3}"))}); {Remedy(job, stage, grown, learningRate)}", stage.Name);
    }

    /// <summary>
    /// The term whose epoch mean grew most against the stage's first step (the largest one when those are unknown,
    /// after a resume), or null without terms.
    /// </summary>
    private static string? GrownTerm(IReadOnlyDictionary<string, double> terms, IReadOnlyDictionary<string, double>? start)
    {
        if (terms.Count == 0) return null;
        var nonFinite = terms.FirstOrDefault(t => !double.IsFinite(t.Value));
        if (nonFinite.Key is not null) return nonFinite.Key;
        double Growth(KeyValuePair<string, double> t) =>
            start is not null && start.TryGetValue(t.Key, out var first) ? Math.Abs(t.Value) / Math.Max(Math.Abs(first), 1e-12) : Math.Abs(t.Value);
        return terms.MaxBy(Growth).Key;
    }

    /// <summary>
    /// What to change: in a pre-stage its own learning-rate option (the run's -LearningRate does not reach it); in the
    /// main stage -LearningRate, and the option that weights the term that grew.
    /// </summary>
    private string Remedy(TrainingJob job, Stage stage, string? term, double learningRate)
    {
        string lower = (learningRate / 10).ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
        if (!stage.IsMain)
            return stage.LearningRateOption is { } option
                ? $"lower the {stage.Name} stage's own learning rate, -MethodOption @{{ {option} = {lower} }} (the run's -LearningRate does not set it), or skip the stage with its epochs option at 0"
                : $"lower the {stage.Name} stage's learning rate (Get-KdMethod {job.Method.Name} lists its options)";
        var weight = term is null || term == TaskTerm ? null : _termWeights.GetValueOrDefault(term);
        return $"lower -LearningRate (try {lower})" + (weight is not null
            ? $", or the weight of term '{term}', -MethodOption @{{ {weight} = … }} below its current value ({Describe(job.Method.Options, weight)})"
            : term is not null && term != TaskTerm ? $", or the method's weight of term '{term}' (Get-KdMethod {job.Method.Name} lists its options)" : "");
    }

    private static string Describe(MethodOptions options, string option) =>
        options.GetType().GetProperty(option)?.GetValue(options) is { } value ? $"{option} = {MethodOptions.Format(value)}" : option;

    /// <summary>
    /// Runs a step, turning a native failure into a <see cref="KdException"/>: a step that fails because the weights
    /// became non-finite (a decomposition refuses non-finite input) has diverged; any other native failure is reported
    /// with its stage and position, never as a raw native exception.
    /// </summary>
    private void StepOrExplain(TrainingJob job, StepInputs prepared, SgdOptimizer optimizer, AuxiliaryOptimizer? auxiliary, Stage stage, RunState state, int batches)
    {
        try
        {
            Step(job, prepared, optimizer, auxiliary, stage, state, batches);
        }
        catch (System.Runtime.InteropServices.ExternalException native)
        {
            string detail = native.Message.Split('\n')[0].Trim();
            string where = $"stage '{stage.Name}' epoch {state.Epoch + 1}, batch {state.NextBatch + 1}";
            if (NonFiniteParameters(stage) is { } poisoned)
            {
                var grown = GrownTerm(state.Accumulator.MeanTerms, state.StageStartTerms);
                throw new KdException(KdErrorIds.TrainingDiverged, KdErrorKind.InvalidOperation,
                    $"the {job.Method.Name} run diverged in {where}: the previous step made '{poisoned}' non-finite, so libtorch refused the next one ({detail})" +
                    (grown is null ? "" : $"; the term that grew most this epoch is '{grown}'") + $"; {Remedy(job, stage, grown, optimizer.LearningRate)}",
                    stage.Name, native);
            }
            throw new KdException(KdErrorIds.TrainingStepFailed, KdErrorKind.InvalidOperation,
                $"the {job.Method.Name} step failed in libtorch at {where} with finite weights: {detail}; " +
                "check the inputs (Get-KdDataset) and the method's options, and report it with the run's settings if they are valid", stage.Name, native);
        }
    }

    /// <summary>The name of the first parameter the stage trains that holds a non-finite value, or null.</summary>
    private static string? NonFiniteParameters(Stage stage)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in stage.Parameters())
            if (!parameter.isfinite().all().ToBoolean()) return name;
        return null;
    }

    private void Step(TrainingJob job, StepInputs prepared, SgdOptimizer optimizer, AuxiliaryOptimizer? auxiliary, Stage stage, RunState state, int batches)
    {
        using var scope = torch.NewDisposeScope();
        prepared.AttachTo(scope);
        var task = job.Task;
        var (inputs, labels, random) = (prepared.Inputs, prepared.Labels, prepared.Random);
        ModelOutput? teacher = null;
        long teacherStart = Stopwatch.GetTimestamp();
        if (job.Teacher is not null)
        {
            using var noGrad = torch.no_grad();
            var teacherNetwork = job.Teacher;
            bool computed = false;
            teacher = _teacherOutputs is { } cache
                ? cache.Outputs(prepared.Indices, () =>
                {
                    computed = true;
                    return FeatureRequest.RunFrozen(teacherNetwork, prepared.TeacherInputs!, job.Method.TeacherFeaturesRead, job.Method.ReadsTeacherLogits);
                })
                // Only what the method reads: a logits-only teacher runs in inference mode and keeps no feature; a
                // features-only one stops after the last feature read.
                : FeatureRequest.RunFrozen(teacherNetwork, prepared.TeacherInputs!, job.Method.TeacherFeaturesRead, job.Method.ReadsTeacherLogits);
            if (_teacherOutputs is not null && !computed) Timings.CachedTeacherSteps++;
        }
        long studentStart = Stopwatch.GetTimestamp();
        Timings.Teacher += Stopwatch.GetElapsedTime(teacherStart, studentStart).TotalSeconds;
        // A pre-stage that trains only the method's modules (FT's paraphraser, MHKD/TOFD teacher heads) reads the teacher
        // alone, so the student does not run there.
        var student = stage.TrainsStudent ? task.RunStudent(job.Student, inputs, random) : null;

        var terms = new LossTerms();
        if (stage.TaskLossWeight != 0 && student is not null) terms.Add(TaskTerm, stage.TaskLossWeight * task.Loss(student, labels));
        var context = new StepContext(inputs, labels, prepared.Indices, student, teacher, state.Epoch, stage.Epochs, random)
        {
            Batch = state.NextBatch,
            Batches = batches,
            Draws = _engine.Observer is null ? null : new Dictionary<string, Tensor>(),
        };
        stage.AddLosses(context, terms);
        foreach (var (term, option) in terms.WeightOptions) _termWeights[term] = option;
        var total = terms.Sum();

        optimizer.ZeroGrad();
        total.backward();
        optimizer.Step();
        var values = terms.Items.Select(t => KeyValuePair.Create(t.Key, t.Value.ToDouble())).ToList();
        // The method's own update (SKD's critic) follows the student's, from the same outputs; its loss is reported as a
        // term of its own, outside the student's loss.
        if (auxiliary is not null) values.Add(KeyValuePair.Create(auxiliary.Update.Name, auxiliary.Step(context)));

        _engine.Observer?.StepCompleted(new StepTrace(state.Stage, state.Epoch, stage.Epochs, state.NextBatch, optimizer.LearningRate, inputs, labels,
            context.Indices, values, context.Draws!));

        double loss = total.ToDouble();
        if (!double.IsFinite(loss) || !values.All(t => double.IsFinite(t.Value)))
        {
            var grown = values.FirstOrDefault(t => !double.IsFinite(t.Value)).Key;
            throw new KdException(KdErrorIds.TrainingDiverged, KdErrorKind.InvalidOperation,
                $"the {job.Method.Name} loss became {loss} in stage '{state.Stage}' epoch {state.Epoch + 1}, batch {state.NextBatch + 1}" +
                (grown is null ? "" : $": term '{grown}' is non-finite") +
                $" (terms: {string.Join(", ", values.Select(t => $"{t.Key}={t.Value:G4}"))}); {Remedy(job, stage, grown, optimizer.LearningRate)}", stage.Name);
        }
        var hits = student is null ? ((long, long)?)null : task.Hits(student, labels);
        state.Accumulator.Add(hits, loss, values);
        if (state.StageStartLoss is null)
        {
            state.StageStartLoss = loss;
            state.StageStartTerms = values.ToDictionary(v => v.Key, v => v.Value);
            if (stage.TaskLossWeight != 0 && values.FirstOrDefault(v => v.Key == TaskTerm) is { Key: not null } first)
                state.StageStartTaskLoss = first.Value / stage.TaskLossWeight;
        }
        Timings.StudentStep += Stopwatch.GetElapsedTime(studentStart).TotalSeconds;
    }

    private EpochRecord CloseEpoch(TrainingJob job, ClassifierNet network, Device device, RunState state, Stage stage, double rate)
    {
        bool evaluate = stage.IsMain && ((state.Epoch + 1) % _settings.EvaluateEvery == 0 || state.Epoch + 1 == stage.Epochs);
        // Not cancellable: a stop during evaluation must still reach the next batch boundary, where the resumable
        // checkpoint is written.
        long evaluationStart = Stopwatch.GetTimestamp();
        // The epoch's freed activations go back to the system before the evaluation allocates its own (peak memory).
        if (evaluate) NativeHeap.Trim();
        var test = evaluate ? job.Task.Evaluate(network, job.Dataset, device) : null;
        Timings.Evaluation += Stopwatch.GetElapsedTime(evaluationStart).TotalSeconds;
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
        _engine.EpochCompleted?.Invoke(record);
        return record;
    }

    /// <summary>", test loss 1.23, top1 0.456, top5 0.9; head1 top1 0.31" or "" when not evaluated.</summary>
    private static string DescribeTest(EpochRecord record, ITrainingTask task) => !record.Evaluated ? "" :
        ", test " + string.Join(", ", record.Test[Evaluation.ExitNames.Final].Select(m => $"{m.Key} {m.Value:G4}")) +
        string.Concat(record.Test.Where(e => e.Key != Evaluation.ExitNames.Final)
            .Select(e => $"; {e.Key} {task.ScoreMetric} {e.Value.GetValueOrDefault(task.ScoreMetric, double.NaN):G4}"));

    /// <summary>
    /// Writes the resumable checkpoint of the position a stop leaves, into the run's folder or, without one or when it
    /// refuses the file, into <see cref="RunFiles.DefaultFolder"/>.
    /// </summary>
    private void SaveOnCancel(ActiveRun run, SgdOptimizer optimizer)
    {
        var state = run.State;
        var path = SaveResumable(run, run.Files.Last, optimizer, completedEpoch: false, tolerateFailure: true);
        if (path is null && run.Files.Folder is not null)
            path = SaveResumable(run, run.Files.LastIn(RunFiles.DefaultFolder), optimizer, completedEpoch: false, tolerateFailure: true);
        if (path is not null)
            _log.LogWarning("Stopped at {Stage} epoch {Epoch}, batch {Batch}; resumable checkpoint: {Path}",
                state.Stage, state.Epoch + 1, state.NextBatch + 1, path);
    }

    /// <summary>Writes the resumable checkpoint; returns its path, or null when the write failed and <paramref name="tolerateFailure"/>.</summary>
    /// <param name="finished">Whether the position after this epoch is the run's end.</param>
    private string? SaveResumable(ActiveRun run, string path, SgdOptimizer? optimizer, bool completedEpoch, bool tolerateFailure, bool finished = false)
    {
        var state = run.State;
        // After a completed epoch the saved position is the start of the next one.
        var position = completedEpoch ? state.Snapshot(epoch: state.Epoch + 1, batch: 0) : state.Snapshot(state.Epoch, state.NextBatch);
        void Write() => TrainingCheckpoint.SaveResumable(path, run.Job, run.Network, _settings, position, optimizer, run.Best, run.Identity, finished,
            optimizer is null ? null : run.Auxiliary?.Optimizer);
        if (!tolerateFailure)
        {
            long start = Stopwatch.GetTimestamp();
            Write();
            Timings.Checkpointing += Stopwatch.GetElapsedTime(start).TotalSeconds;
            state.LastCheckpoint = path;
            return path;
        }
        state.LastCheckpoint = TryWrite(run, path, Write);
        return state.LastCheckpoint;
    }

    /// <summary>
    /// A checkpoint write during training: a failure (a full disk, a folder turned read-only) is logged and recorded,
    /// and training goes on, so the trained network is not lost to its checkpoint. Returns the path, or null on failure.
    /// </summary>
    private string? TryWrite(ActiveRun run, string path, Action write)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            write();
            return path;
        }
        catch (KdException ex) when (ex.ErrorId == KdErrorIds.CheckpointWriteFailed)
        {
            var state = run.State;
            var where = state.Stage.Length == 0 ? "at the start" : $"at {state.Stage} epoch {state.Epoch + 1}";
            state.CheckpointFailure = new KdException(ex.ErrorId, ex.Kind,
                $"{ex.Message} ({where}); training went on without it, so that checkpoint does not hold the run's latest state", ex.Target, ex);
            _log.LogWarning("{Failure}", state.CheckpointFailure.Message);
            return null;
        }
        finally
        {
            Timings.Checkpointing += Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
    }

    private TrainingResult Finish(ActiveRun run, Stopwatch clock, bool cancelled)
    {
        var (job, state) = (run.Job, run.State);
        _engine.Observer?.Finished(job);
        Timings.Total = clock.Elapsed.TotalSeconds;
        return new TrainingResult
        {
            Network = run.Network,
            History = state.History.ToList(),
            Cancelled = cancelled,
            Duration = clock.Elapsed,
            EpochsCompleted = state.History.Count(h => h.Stage == MainStage),
            LastEvaluated = state.LastEvaluated,
            Best = state.Best(job.Task.ScoreMetric),
            ExtraParameters = job.Method.ExtraParameters,
            LastCheckpoint = state.LastCheckpoint,
            BestCheckpoint = state.BestCheckpoint,
            CheckpointFailure = state.CheckpointFailure,
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
        var images = set.Slice(0, Math.Min(2, set.Count));
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
                job.Dataset.Task == PredictionTask.Classification ? job.Dataset.Train.Labels : null,
                job.Teacher is { } t ? t.PreActivationNorm : null, images.shape);
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
