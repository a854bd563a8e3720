using System.Text.Json;
using System.Text.Json.Serialization;
using KdTools.Core.Checkpoints;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// Resumable checkpoints: the student's and the method's weights, the optimizer's momentum buffers, the best epoch's
/// weights of a run that keeps them, the run's position and history, and its identity (<see cref="RunIdentity"/>) as
/// metadata. A resumable checkpoint is also a loadable model file.
/// </summary>
internal static class TrainingCheckpoint
{
    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>What a resume needs beyond the weights already copied into the models.</summary>
    internal sealed class Resumed(string path, string stage, SafeTensorsContent content) : IDisposable
    {
        public string Stage { get; } = stage;

        public IReadOnlyDictionary<string, Tensor> OptimizerState { get; } = content.Tensors
            .Where(t => t.Key.StartsWith(CheckpointMetadata.OptimizerPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[CheckpointMetadata.OptimizerPrefix.Length..], t => t.Value);

        /// <summary>Copies the saved best epoch's weights into <paramref name="best"/>.</summary>
        public void RestoreBest(WeightSnapshot best) => best.Load(content.Tensors, CheckpointMetadata.BestPrefix, path);

        public void Dispose() => content.Dispose();
    }

    /// <summary>A run's position as a checkpoint records it.</summary>
    internal sealed record SavedRun(string Stage, int Epoch, int NextBatch, EpochAccumulator Accumulator, List<EpochRecord> History,
        double? StageStartLoss = null, double? StageStartTaskLoss = null, bool Finished = false)
    {
        /// <summary>"train epoch 3, batch 5" or "finished".</summary>
        public string Describe() => Finished ? "finished"
            : Stage.Length == 0 ? "before its first step"
            : $"{Stage} epoch {Epoch + 1}{(NextBatch > 0 ? $", batch {NextBatch + 1}" : "")}";
    }

    /// <param name="network">The student as the run produces it (with the method's exits, if any): the file's model.</param>
    /// <param name="optimizer">The stage's optimizer; null before the first stage starts (no momentum yet).</param>
    /// <param name="best">The best epoch's weights of a run that keeps them.</param>
    /// <param name="finished">Whether the run has completed every stage.</param>
    /// <param name="auxiliary">The optimizer of the method's auxiliary update (SKD's critic), if any: its buffers' names
    /// start with the update's name, so they share the optimizer prefix with the stage's without colliding.</param>
    public static void SaveResumable(string path, TrainingJob job, Models.ClassifierNet network, TrainingSettings settings, RunState position,
        SgdOptimizer? optimizer, WeightSnapshot? best, RunIdentity identity, bool finished, SgdOptimizer? auxiliary = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        if (job.Method.Extras is { } extras) tensors.AddRange(ModuleState.Collect(extras, CheckpointMetadata.ExtrasPrefix));
        if (optimizer is not null)
            tensors.AddRange(optimizer.Buffers.Concat(auxiliary?.Buffers ?? [])
                .Select(b => KeyValuePair.Create(CheckpointMetadata.OptimizerPrefix + b.Name, b.Velocity)));
        if (best is not null) tensors.AddRange(best.Entries(CheckpointMetadata.BestPrefix));
        var run = new SavedRun(position.Stage, position.Epoch, position.NextBatch, position.Accumulator, position.History,
            position.StageStartLoss, position.StageStartTaskLoss, finished);
        var metadata = new Dictionary<string, string>
        {
            [CheckpointMetadata.Kind] = CheckpointMetadata.KindResumable,
            [CheckpointMetadata.MethodOptions] = job.Method.Options.ToCompactString(),
            [CheckpointMetadata.Run] = JsonSerializer.Serialize(run, Json),
            [CheckpointMetadata.RunIdentity] = identity.ToJson(),
        };
        ModelFile.Save(path, network, Provenance(job, settings, position.History.Count(h => h.Stage == Trainer.MainStage),
            position.LastEvaluated?.TestTop1 ?? double.NaN), tensors, metadata);
    }

    public static void SaveModel(string path, TrainingJob job, Models.ClassifierNet network, TrainingSettings settings, EpochRecord record) =>
        ModelFile.Save(path, network, Provenance(job, settings, record.Epoch, record.TestTop1));

    /// <summary>
    /// Checks that the checkpoint was written by a run with <paramref name="identity"/>, then copies its weights into
    /// the job's models and its position into <paramref name="state"/>.
    /// </summary>
    public static Resumed Load(string path, TrainingJob job, RunState state, RunIdentity identity)
    {
        var content = SafeTensorsFile.Read(path);
        try
        {
            var metadata = content.Metadata;
            var version = CheckpointMetadata.RequireKdTools(metadata, path);
            if (metadata.GetValueOrDefault(CheckpointMetadata.Kind) != CheckpointMetadata.KindResumable)
                Mismatch(path, $"is a model file, not a resumable training checkpoint; resume from the run's *{RunFiles.LastSuffix}");
            var saved = metadata.GetValueOrDefault(CheckpointMetadata.RunIdentity);
            if (version < CheckpointMetadata.CurrentVersion || saved is null)
                throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidArgument,
                    $"checkpoint '{path}' was written by an earlier KdTools that did not record what defines the run, so a resume " +
                    "cannot be checked; start the run again (the file still loads as a model)", path);
            var differences = RunIdentity.FromJson(saved, path).Differences(identity);
            if (differences.Count > 0)
                Mismatch(path, $"belongs to another run: {string.Join("; ", differences)}; resume with the settings, data and teacher it was started with");

            var run = ReadRun(metadata, path);
            ModelFile.LoadNetwork(job.Student, content, path, job.Student.Architecture);
            if (job.Method.Extras is { } extras)
                ModuleState.Load(extras, content.Tensors, CheckpointMetadata.ExtrasPrefix, $"the {job.Method.Name} method's modules");
            state.Stage = run.Stage;
            state.Epoch = run.Epoch;
            state.NextBatch = run.NextBatch;
            state.Accumulator = run.Accumulator;
            state.History = run.History;
            state.StageStartLoss = run.StageStartLoss;
            state.StageStartTaskLoss = run.StageStartTaskLoss;
            state.LastCheckpoint = path;
            return new Resumed(path, run.Stage, content);
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }

    /// <summary>The run state a resumable checkpoint records; an unreadable one is <see cref="KdErrorIds.CheckpointCorrupt"/>.</summary>
    public static SavedRun ReadRun(IReadOnlyDictionary<string, string> metadata, string path)
    {
        var text = metadata.GetValueOrDefault(CheckpointMetadata.Run) ?? "";
        try
        {
            var run = JsonSerializer.Deserialize<SavedRun>(text, Json) ?? throw new JsonException("empty run state");
            if (run.Stage is null || run.History is null || run.Accumulator is null || run.Epoch < 0 || run.NextBatch < 0)
                throw new JsonException("incomplete run state");
            return run;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw CheckpointMetadata.Corrupt(path, CheckpointMetadata.Run, text, "a run state", ex);
        }
    }

    private static ModelProvenance Provenance(TrainingJob job, TrainingSettings settings, int epochs, double top1) => new()
    {
        Method = job.Method.Name,
        Dataset = job.Dataset.Name,
        Epochs = epochs,
        TestTop1 = top1,
        Recipe = settings.Recipe,
    };

    private static void Mismatch(string path, string why) =>
        throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidArgument, $"checkpoint '{path}' {why}", path);
}
