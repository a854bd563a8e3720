using System.Diagnostics;
using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// The training engine: pre-stages, then the main stage of the method, with SGD and a multistep schedule, evaluation
/// each epoch, best/last checkpoints, resume and cancellation between batches. Every step runs in its own dispose
/// scope and seeds the RNG from (seed, stage, epoch, batch), so a resumed run continues bit-identically.
/// </summary>
public sealed class Trainer(TrainingSettings settings, ILogger? logger = null)
{
    public const string MainStage = "train";

    private readonly TrainingSettings _settings = settings;
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    /// <summary>Raised after every batch and at the end of every epoch (on the training thread).</summary>
    public event Action<TrainingProgress>? Progress;

    public event Action<EpochRecord>? EpochCompleted;

    /// <summary>Sees the initial weights and every step (the parity tests); null, the default, costs nothing.</summary>
    internal ITrainingObserver? Observer { get; init; }

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
        job.Method.Initialize(ProbeFeatures(job, device));
        job.Method.Extras?.to(device);

        var state = new RunState();
        using var resumed = job.ResumeFrom is null ? null : TrainingCheckpoint.Load(job.ResumeFrom, job, state);
        Observer?.Started(job);
        if (resumed is not null)
            _log.LogInformation("Resuming {Method} from {Path}: stage {Stage}, epoch {Epoch}, batch {Batch}",
                job.Method.Name, job.ResumeFrom, state.Stage, state.Epoch + 1, state.NextBatch);

        using var best = _settings.KeepBestWeights ? new WeightSnapshot(job.Student) : null;
        var stages = job.Method.PreStages.Where(p => p.Epochs > 0).ToList();
        int firstStage = state.Stage == MainStage ? stages.Count : Math.Max(0, stages.FindIndex(p => p.Name == state.Stage));
        for (int i = firstStage; i < stages.Count; i++)
        {
            var stage = stages[i];
            if (state.Stage != stage.Name) state.StartStage(stage.Name);
            var parameters = stage.ExtraParameters().Select((p, k) => ($"{stage.Name}.{k}", p)).ToList();
            if (stage.TrainsStudent) parameters.AddRange(job.Student.named_parameters().Select(p => ($"model.{p.name}", p.parameter)));
            using var optimizer = new SgdOptimizer(parameters, stage.LearningRate, _settings.Momentum, _settings.WeightDecay, _settings.Nesterov);
            if (resumed is not null && state.Stage == stage.Name) optimizer.LoadBuffers(resumed.OptimizerState, job.ResumeFrom!);
            var outcome = RunStage(job, device, state, optimizer, stage.Name, stage.Epochs, stage.LearningRate, stage.AddLosses,
                stage.TrainsStudent, best: null, cancellation);
            if (outcome is not null) return Finish(job, state, outcome, clock);
        }

        if (state.Stage != MainStage) state.StartStage(MainStage);
        using (var optimizer = new SgdOptimizer(TrainableParameters(job), _settings.LearningRate, _settings.Momentum,
                   _settings.WeightDecay, _settings.Nesterov))
        {
            if (resumed is not null && resumed.Stage == MainStage) optimizer.LoadBuffers(resumed.OptimizerState, job.ResumeFrom!);
            var outcome = RunStage(job, device, state, optimizer, MainStage, _settings.Epochs, _settings.LearningRate,
                job.Method.AddLosses, trainsStudent: true, best, cancellation);
            if (outcome is not null) return Finish(job, state, outcome, clock);
        }
        best?.RestoreInto(job.Student);
        return Finish(job, state, lastCheckpoint: state.LastCheckpoint, clock, cancelled: false);
    }

    /// <summary>Runs a stage from the state's position; returns the checkpoint path when cancelled, else null.</summary>
    private string? RunStage(TrainingJob job, Device device, RunState state, SgdOptimizer optimizer, string stage, int epochs,
        double baseRate, Action<StepContext, LossTerms> addLosses, bool trainsStudent, WeightSnapshot? best, CancellationToken cancellation)
    {
        var data = job.Dataset;
        // A trailing batch of one sample breaks batch statistics (BN) and relational losses (RKD, PKT): drop just that one.
        var loader = new BatchLoader(data.Train, _settings.BatchSize, shuffle: true, dropLast: data.Train.Count % _settings.BatchSize == 1);
        bool isMain = stage == MainStage;
        double taskWeight = isMain ? job.Method.TaskLossWeight : 0;
        int stageIndex = isMain ? 0 : 1 + job.Method.PreStages.ToList().FindIndex(p => p.Name == stage);

        for (; state.Epoch < epochs; state.Epoch++, state.NextBatch = 0, state.Accumulator = new EpochAccumulator())
        {
            optimizer.LearningRate = baseRate * Math.Pow(_settings.LrDecay, _settings.EffectiveMilestones().Count(m => state.Epoch >= m));
            job.Student.train(trainsStudent);
            if (job.FreezeBackbone && job.Student is MultiExitNet multi) multi.Backbone.eval();
            job.Method.Extras?.train();
            job.Method.PrepareEpoch(stage);
            job.Teacher?.eval();
            var epochClock = Stopwatch.StartNew();
            using (var orderScope = torch.NewDisposeScope())
            {
                var order = loader.EpochOrder(MixSeed(_settings.Seed, stageIndex, state.Epoch, -1));
                for (; state.NextBatch < loader.BatchCount; state.NextBatch++)
                {
                    if (cancellation.IsCancellationRequested)
                    {
                        state.Accumulator.Seconds += epochClock.Elapsed.TotalSeconds;
                        return SaveOnCancel(job, state, optimizer);
                    }
                    using (var random = new Generator((ulong)MixSeed(_settings.Seed, stageIndex, state.Epoch, state.NextBatch)))
                        Step(job, device, loader.GetBatch(order, state.NextBatch), optimizer, addLosses, taskWeight, trainsStudent,
                            state, epochs, random);
                    Progress?.Invoke(new TrainingProgress(stage, state.Epoch + 1, epochs, state.NextBatch + 1, loader.BatchCount,
                        state.Accumulator.MeanLoss, optimizer.LearningRate, TimeSpan.FromSeconds(state.Accumulator.Seconds) + epochClock.Elapsed));
                }
            }
            state.Accumulator.Seconds += epochClock.Elapsed.TotalSeconds;
            var record = CloseEpoch(job, device, state, stage, epochs, optimizer.LearningRate, isMain, cancellation);
            if (isMain && record.TestTop1 > state.BestTop1)
            {
                state.BestTop1 = record.TestTop1;
                state.BestEpoch = record.Epoch;
                state.BestTop5 = record.TestTop5;
                best?.Capture(job.Student);
                if (_settings.CheckpointDirectory is { } dir)
                    TrainingCheckpoint.SaveModel(Path.Combine(dir, "best.safetensors"), job, record);
            }
            if (_settings.CheckpointDirectory is { } folder)
                state.LastCheckpoint = SaveResumable(Path.Combine(folder, "last.safetensors"), job, state, optimizer, completedEpoch: true);
            // Implicit Scalar conversions in loss formulas are only freed by finalizers; keep them bounded per epoch.
            GC.Collect();
        }
        return null;
    }

    private void Step(TrainingJob job, Device device, Batch batch, SgdOptimizer optimizer, Action<StepContext, LossTerms> addLosses,
        double taskWeight, bool trainsStudent, RunState state, int epochs, Generator random)
    {
        using var scope = torch.NewDisposeScope();
        var inputs = BatchAugmentation.Prepare(batch.Images, job.Dataset.Mean, job.Dataset.Std, _settings.Augment, generator: random).to(device);
        var labels = batch.Labels.to(device);
        ModelOutput? teacher = null;
        if (job.Teacher is not null)
        {
            using var noGrad = torch.no_grad();
            teacher = job.Teacher.Run(inputs);
        }
        // A pre-stage that trains only the method's modules (FT's paraphraser, MHKD/TOFD teacher heads) reads the teacher
        // alone, so the student does not run there.
        var student = trainsStudent ? job.Student.Run(inputs) : null;

        var terms = new LossTerms();
        if (taskWeight != 0 && student is not null) terms.Add("ce", taskWeight * nn.functional.cross_entropy(student.Logits, labels));
        var context = new StepContext(inputs, labels, batch.Indices.to(device), student, teacher, state.Epoch, epochs, random)
        {
            Draws = Observer is null ? null : new Dictionary<string, Tensor>(),
        };
        addLosses(context, terms);
        var total = terms.Sum();

        optimizer.ZeroGrad();
        total.backward();
        optimizer.Step();

        Observer?.StepCompleted(new StepTrace(state.Stage, state.Epoch, epochs, state.NextBatch, optimizer.LearningRate, inputs, labels,
            context.Indices, terms.Items.Select(t => KeyValuePair.Create(t.Key, t.Value.ToDouble())).ToList(), context.Draws!));

        double loss = total.ToDouble();
        if (!double.IsFinite(loss))
            throw new KdException(KdErrorIds.TrainingDiverged, KdErrorKind.InvalidOperation,
                $"the {job.Method.Name} loss became {loss} at {state.Stage} epoch {state.Epoch + 1}, batch {state.NextBatch + 1} " +
                $"(terms: {string.Join(", ", terms.Items.Select(t => $"{t.Key}={t.Value.ToDouble():G4}"))}); lower -LearningRate or the method's loss weights");
        long? correct = student?.Logits.argmax(1).eq(labels).sum().ToInt64();
        state.Accumulator.Add((int)labels.shape[0], correct, loss, terms.Items.Select(t => KeyValuePair.Create(t.Key, t.Value.ToDouble())));
    }

    private EpochRecord CloseEpoch(TrainingJob job, Device device, RunState state, string stage, int epochs, double rate,
        bool isMain, CancellationToken cancellation)
    {
        bool evaluate = isMain && ((state.Epoch + 1) % _settings.EvaluateEvery == 0 || state.Epoch + 1 == epochs);
        // Not cancellable: a stop during evaluation must still reach the next batch boundary, where the resumable
        // checkpoint is written.
        var exits = evaluate
            ? Evaluator.EvaluateExits(job.Student, job.Dataset.Test, job.Dataset.Mean, job.Dataset.Std, device)
            : null;
        var test = exits?[ExitNames.Final];
        var acc = state.Accumulator;
        var record = new EpochRecord
        {
            Stage = stage,
            Epoch = state.Epoch + 1,
            LearningRate = rate,
            TrainLoss = acc.MeanLoss,
            TrainTop1 = acc.Top1,
            Terms = acc.MeanTerms,
            TestLoss = test?.Loss ?? double.NaN,
            TestTop1 = test?.Top1 ?? double.NaN,
            TestTop5 = test?.Top5 ?? double.NaN,
            ExitTop1 = exits?.Where(e => e.Key != ExitNames.Final).ToDictionary(e => e.Key, e => e.Value.Top1) ?? new Dictionary<string, double>(),
            Duration = TimeSpan.FromSeconds(acc.Seconds),
        };
        state.History.Add(record);
        if (test is not null)
        {
            state.LastTop1 = test.Top1;
            state.LastTop5 = test.Top5;
        }
        _log.LogInformation("{Method} {Stage} epoch {Epoch}/{Epochs}: lr {Rate:G3}, loss {Loss:F4} ({Terms}), train top-1 {TrainTop1:P1}{Test} in {Seconds:F1}s",
            job.Method.Name, stage, record.Epoch, epochs, rate, record.TrainLoss,
            string.Join(", ", record.Terms.Select(t => $"{t.Key} {t.Value:F4}")), record.TrainTop1,
            test is null ? "" : $", test top-1 {test.Top1:P2}, top-5 {test.Top5:P2}" +
                string.Concat(record.ExitTop1.Select(e => $", {e.Key} {e.Value:P2}")), acc.Seconds);
        EpochCompleted?.Invoke(record);
        return record;
    }

    private string SaveOnCancel(TrainingJob job, RunState state, SgdOptimizer optimizer)
    {
        var folder = _settings.CheckpointDirectory
            ?? Path.Combine(Path.GetTempPath(), "kdtools", $"{job.Method.Name}-{job.Student.Architecture}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        var path = SaveResumable(Path.Combine(folder, "last.safetensors"), job, state, optimizer, completedEpoch: false);
        _log.LogWarning("Cancelled at {Stage} epoch {Epoch}, batch {Batch}; resumable checkpoint saved to {Path}",
            state.Stage, state.Epoch + 1, state.NextBatch + 1, path);
        return path;
    }

    private string SaveResumable(string path, TrainingJob job, RunState state, SgdOptimizer optimizer, bool completedEpoch)
    {
        // After a completed epoch the saved position is the start of the next one.
        var position = completedEpoch ? state.Snapshot(epoch: state.Epoch + 1, batch: 0) : state.Snapshot(state.Epoch, state.NextBatch);
        TrainingCheckpoint.SaveResumable(path, job, _settings, position, optimizer);
        state.LastCheckpoint = path;
        return path;
    }

    private TrainingResult Finish(TrainingJob job, RunState state, string? lastCheckpoint, Stopwatch clock, bool cancelled = true) => new()
    {
        History = state.History.ToList(),
        Cancelled = cancelled,
        Duration = clock.Elapsed,
        EpochsCompleted = state.History.Count(h => h.Stage == MainStage),
        LastTop1 = state.LastTop1,
        LastTop5 = state.LastTop5,
        BestTop1 = state.BestEpoch == 0 ? double.NaN : state.BestTop1,
        BestEpoch = state.BestEpoch,
        LastCheckpoint = lastCheckpoint,
        BestCheckpoint = _settings.CheckpointDirectory is { } dir && state.BestEpoch > 0 ? Path.Combine(dir, "best.safetensors") : null,
    };

    private static IEnumerable<(string, Parameter)> TrainableParameters(TrainingJob job)
    {
        foreach (var (name, p) in job.Student.named_parameters()) yield return ($"model.{name}", p);
        if (job.Method.Extras is { } extras)
            foreach (var (name, p) in extras.named_parameters()) yield return ($"extras.{name}", p);
    }

    private void Validate(TrainingJob job)
    {
        var method = job.Method;
        if (method.NeedsTeacher && job.Teacher is null)
            throw new KdException(KdErrorIds.MethodNeedsTeacher, KdErrorKind.InvalidArgument,
                $"method {method.Name} needs a teacher; pass -Teacher (New-Teacher …) or use a teacher-free method such as CE");
        if (job.Student.NumClasses != job.Dataset.Classes)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the student ({job.Student.Architecture}) has {job.Student.NumClasses} classes but dataset '{job.Dataset.Name}' has {job.Dataset.Classes}; create the student for {job.Dataset.Classes} classes");
        if (job.Teacher is { } teacher && teacher.NumClasses != job.Student.NumClasses)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the teacher ({teacher.Architecture}) has {teacher.NumClasses} classes but the student has {job.Student.NumClasses}; both must be trained for dataset '{job.Dataset.Name}' ({job.Dataset.Classes} classes)");
    }

    /// <summary>Feature shapes of both networks from a 2-sample forward pass in eval mode.</summary>
    private static MethodSetup ProbeFeatures(TrainingJob job, Device device)
    {
        static Dictionary<string, long[]> Shapes(ModelOutput o) => o.Features.ToDictionary(f => f.Key, f => f.Value.shape);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var set = job.Dataset.Test.Count >= 2 ? job.Dataset.Test : job.Dataset.Train;
        var x = BatchAugmentation.Prepare(set.Images.narrow(0, 0, Math.Min(2, set.Count)), job.Dataset.Mean, job.Dataset.Std, augment: false).to(device);
        bool wasTraining = job.Student.training;
        job.Student.eval();
        try
        {
            var student = job.Student.Run(x);
            var teacher = job.Teacher?.Run(x);
            return new MethodSetup(Shapes(student), teacher is null ? null : Shapes(teacher), job.Dataset.Classes, device,
                student.Exits.Keys.ToList(), teacher?.Exits.Keys.ToList(), job.Dataset.Train.Count, job.Dataset.Train.Labels,
                job.Teacher is { } t ? t.PreActivationNorm : null);
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
