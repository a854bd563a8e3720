using System.Text.Json;
using System.Text.Json.Serialization;
using KdTools.Core.Checkpoints;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// Resumable checkpoints: the student's and the method's weights, the optimizer's momentum buffers, and the run's
/// position and history as JSON metadata. A resumable checkpoint is also a loadable model file.
/// </summary>
internal static class TrainingCheckpoint
{
    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>What a resume needs beyond the weights already copied into the models.</summary>
    internal sealed class Resumed(string stage, SafeTensorsContent content) : IDisposable
    {
        public string Stage { get; } = stage;

        public IReadOnlyDictionary<string, Tensor> OptimizerState { get; } = content.Tensors
            .Where(t => t.Key.StartsWith(CheckpointMetadata.OptimizerPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[CheckpointMetadata.OptimizerPrefix.Length..], t => t.Value);

        public void Dispose() => content.Dispose();
    }

    private sealed record SavedRun(string Stage, int Epoch, int NextBatch, EpochAccumulator Accumulator, List<EpochRecord> History);

    /// <param name="network">The student as the run produces it (with the method's exits, if any): the file's model.</param>
    /// <param name="auxiliary">The optimizer of the method's auxiliary update (SKD's critic), if any; its buffers' names
    /// carry the update's name, so both sets live under the same prefix.</param>
    public static void SaveResumable(string path, TrainingJob job, Models.ClassifierNet network, TrainingSettings settings, RunState position,
        SgdOptimizer optimizer, SgdOptimizer? auxiliary = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        if (job.Method.Extras is { } extras) tensors.AddRange(ModuleState.Collect(extras, CheckpointMetadata.ExtrasPrefix));
        tensors.AddRange(optimizer.Buffers.Concat(auxiliary?.Buffers ?? [])
            .Select(b => KeyValuePair.Create(CheckpointMetadata.OptimizerPrefix + b.Name, b.Velocity)));
        var run = new SavedRun(position.Stage, position.Epoch, position.NextBatch, position.Accumulator, position.History);
        var metadata = new Dictionary<string, string>
        {
            [CheckpointMetadata.Kind] = CheckpointMetadata.KindResumable,
            [CheckpointMetadata.MethodOptions] = job.Method.Options.ToCompactString(),
            [CheckpointMetadata.Run] = JsonSerializer.Serialize(run, Json),
            [CheckpointMetadata.Settings] = JsonSerializer.Serialize(settings, Json),
            ["teacher"] = job.Teacher?.Architecture ?? "",
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ModelFile.Save(path, network, Provenance(job, settings, position.History.Count(h => h.Stage == Trainer.MainStage),
            position.LastEvaluated?.TestTop1 ?? double.NaN), tensors, metadata);
    }

    public static void SaveModel(string path, TrainingJob job, Models.ClassifierNet network, TrainingSettings settings, EpochRecord record)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ModelFile.Save(path, network, Provenance(job, settings, record.Epoch, record.TestTop1));
    }

    /// <summary>Copies the checkpoint's weights into the job's models and its position into <paramref name="state"/>.</summary>
    public static Resumed Load(string path, TrainingJob job, RunState state)
    {
        var content = SafeTensorsFile.Read(path);
        try
        {
            var metadata = content.Metadata;
            CheckpointMetadata.RequireKdTools(metadata, path);
            if (metadata.GetValueOrDefault(CheckpointMetadata.Kind) != CheckpointMetadata.KindResumable)
                Mismatch(path, "is a model file, not a resumable training checkpoint; resume from the run's last.safetensors");
            Expect(path, "student architecture", metadata[CheckpointMetadata.Architecture], job.Student.Architecture);
            Expect(path, "method", metadata.GetValueOrDefault(CheckpointMetadata.Method, ""), job.Method.Name);
            Expect(path, $"{job.Method.Name} options", metadata.GetValueOrDefault(CheckpointMetadata.MethodOptions, ""), job.Method.Options.ToCompactString());
            Expect(path, "teacher architecture", metadata.GetValueOrDefault("teacher", ""), job.Teacher?.Architecture ?? "");

            ModuleState.Load(job.Student, content.Tensors, CheckpointMetadata.ModelPrefix, job.Student.Architecture);
            if (job.Method.Extras is { } extras)
                ModuleState.Load(extras, content.Tensors, CheckpointMetadata.ExtrasPrefix, $"the {job.Method.Name} method's modules");

            var run = JsonSerializer.Deserialize<SavedRun>(metadata[CheckpointMetadata.Run], Json)
                ?? throw new JsonException("empty run state");
            state.Stage = run.Stage;
            state.Epoch = run.Epoch;
            state.NextBatch = run.NextBatch;
            state.Accumulator = run.Accumulator;
            state.History = run.History;
            state.LastCheckpoint = path;
            return new Resumed(run.Stage, content);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException)
        {
            content.Dispose();
            throw new KdException(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
                $"checkpoint '{path}' has an unreadable run state ({ex.Message}); resume from an earlier checkpoint or start again", path, ex);
        }
        catch
        {
            content.Dispose();
            throw;
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

    private static void Expect(string path, string what, string saved, string current)
    {
        if (!string.Equals(saved, current, StringComparison.OrdinalIgnoreCase))
            Mismatch(path, $"was saved for {what} '{saved}', not '{current}'; resume with the same settings it was started with");
    }

    private static void Mismatch(string path, string why) =>
        throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidArgument, $"checkpoint '{path}' {why}", path);
}
