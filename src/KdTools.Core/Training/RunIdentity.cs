using System.Globalization;
using System.Text.Json;
using KdTools.Core.Checkpoints;
using KdTools.Core.Models;

namespace KdTools.Core.Training;

/// <summary>
/// Everything that defines a run, as named text values: the networks, the method and its options, the data (by a
/// fingerprint of its contents), the teacher's weights (by fingerprint) and every setting that shapes the weights.
/// A resumable checkpoint records it; a resume must match it exactly, and a new run in a folder that holds an
/// unfinished run with the same identity would start that run over. Where the run executes (device, threads,
/// checkpoint folder) is not part of it.
/// </summary>
internal sealed class RunIdentity
{
    private readonly List<KeyValuePair<string, string>> _entries;

    private RunIdentity(List<KeyValuePair<string, string>> entries) => _entries = entries;

    public static RunIdentity Of(TrainingJob job, TrainingSettings settings)
    {
        var student = job.Student is MultiExitNet multi ? multi.Backbone : job.Student;
        List<KeyValuePair<string, string>> entries =
        [
            new("student", job.Student.Architecture),
            new("student classes", Invariant(student.NumClasses)),
            new("teacher", job.Teacher?.Architecture ?? "none"),
            new("teacher weights", job.Teacher is { } teacher ? TensorHash.Of(teacher.state_dict().Select(e => (e.Key, e.Value))) : "none"),
            new("teacher normalization", Describe(job.Teacher?.Normalization)),
            new("method", job.Method.Name),
            new("method options", job.Method.Options.ToCompactString()),
            new("dataset", job.Dataset.Name),
            new("dataset contents", job.Dataset.Fingerprint),
            new("recipe", settings.Recipe),
            new("epochs", Invariant(settings.Epochs)),
            new("batch size", Invariant(settings.BatchSize)),
            new("learning rate", Invariant(settings.LearningRate)),
            new("momentum", Invariant(settings.Momentum)),
            new("Nesterov", settings.Nesterov ? "true" : "false"),
            new("weight decay", Invariant(settings.WeightDecay)),
            new("schedule", settings.Schedule.Describe(settings.Epochs)),
            new("augmentation", settings.DescribeAugmentation(job.Dataset.Task)),
            new("seed", Invariant(settings.Seed)),
            new("keep best weights", settings.KeepBestWeights ? "true" : "false"),
            new("evaluate every", Invariant(settings.EvaluateEvery)),
        ];
        // Heads trained on a frozen network: that network's weights define the run as a teacher's do a distillation's.
        if (job.FreezeBackbone)
            entries.Add(new("backbone weights", TensorHash.Of(student.state_dict().Select(e => (e.Key, e.Value)))));
        return new RunIdentity(entries);
    }

    public string ToJson() => JsonSerializer.Serialize(_entries.ToDictionary(e => e.Key, e => e.Value));

    /// <summary>The identity a checkpoint records; an unreadable one is <see cref="KdErrorIds.CheckpointCorrupt"/>.</summary>
    public static RunIdentity FromJson(string json, string path)
    {
        try
        {
            var entries = JsonSerializer.Deserialize<Dictionary<string, string>>(json)
                ?? throw new JsonException("empty");
            return new RunIdentity(entries.ToList());
        }
        catch (JsonException ex)
        {
            throw CheckpointMetadata.Corrupt(path, CheckpointMetadata.RunIdentity, json, "a run identity", ex);
        }
    }

    /// <summary>"seed: 1 in the checkpoint, 7 now", one per entry that differs (an entry only one side has included).</summary>
    public IReadOnlyList<string> Differences(RunIdentity current)
    {
        var saved = _entries.ToDictionary(e => e.Key, e => e.Value);
        var now = current._entries.ToDictionary(e => e.Key, e => e.Value);
        return current._entries.Select(e => e.Key).Concat(_entries.Select(e => e.Key)).Distinct()
            .Where(key => !string.Equals(saved.GetValueOrDefault(key), now.GetValueOrDefault(key), StringComparison.Ordinal))
            .Select(key => $"{key}: {saved.GetValueOrDefault(key) ?? "(not recorded)"} in the checkpoint, {now.GetValueOrDefault(key) ?? "(none)"} now")
            .ToList();
    }

    private static string Describe(Data.InputNormalization? normalization) => normalization is { } n
        ? $"mean {string.Join(",", n.Mean.Select(v => Invariant(v)))}, std {string.Join(",", n.Std.Select(v => Invariant(v)))}"
        : "none";

    private static string Invariant(IFormattable value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        _ => value.ToString(null, CultureInfo.InvariantCulture),
    };
}
