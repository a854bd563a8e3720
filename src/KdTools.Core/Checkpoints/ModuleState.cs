using static TorchSharp.torch;

namespace KdTools.Core.Checkpoints;

/// <summary>
/// Moves a TorchSharp module's state (parameters and persistent buffers such as BatchNorm running statistics)
/// in and out of a flat name → tensor map, with an optional key prefix so several modules share one checkpoint.
/// </summary>
internal static class ModuleState
{
    private const int NamesShown = 5;

    /// <summary>
    /// The module's <c>state_dict()</c> entries, keys prefixed with <paramref name="prefix"/>. The tensors are the
    /// module's live parameters and buffers: read or save them, never dispose them.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> Collect(nn.Module module, string prefix) =>
        module.state_dict().Select(item => KeyValuePair.Create(prefix + item.Key, item.Value)).ToList();

    /// <summary>
    /// Copies the entries under <paramref name="prefix"/> into the module's parameters and buffers, in place, so
    /// optimizers holding those parameters keep working. Strict: every state key must be present with the same
    /// shape and no other key may use the prefix; values are converted to the module's dtype and device.
    /// Nothing is copied unless everything matches.
    /// </summary>
    /// <param name="module">The module to fill; its parameter and buffer objects stay the same.</param>
    /// <param name="tensors">Checkpoint tensors, for example <see cref="SafeTensorsContent.Tensors"/>.</param>
    /// <param name="prefix">The prefix the module's keys were saved under (as given to <see cref="Collect"/>), or "".</param>
    /// <param name="what">The module being loaded (for example "resnet8 (100 classes)"); quoted in the error.</param>
    /// <param name="rules">Keys to leave out or to tolerate missing (importing weights from elsewhere); null: every key, strictly.</param>
    /// <returns>The module keys that kept their current values: skipped ones and tolerated missing ones.</returns>
    /// <exception cref="KdException"><see cref="KdErrorIds.CheckpointMismatch"/> listing missing, unexpected and mis-shaped keys.</exception>
    public static IReadOnlyList<string> Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string prefix, string what,
        StateLoadRules? rules = null)
    {
        rules ??= StateLoadRules.Strict;
        var targets = module.state_dict();
        var missing = new List<string>();
        var misShaped = new List<string>();
        var kept = new HashSet<string>();
        foreach (var (key, target) in targets)
        {
            if (rules.Skip(key))
                kept.Add(key);
            else if (!tensors.TryGetValue(prefix + key, out var source))
            {
                if (rules.MayBeMissing(key)) kept.Add(key);
                else missing.Add(prefix + key);
            }
            else if (!source.shape.SequenceEqual(target.shape))
                misShaped.Add($"{prefix + key} (checkpoint [{string.Join(", ", source.shape)}], model [{string.Join(", ", target.shape)}])");
        }
        var unexpected = tensors.Keys
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && !targets.ContainsKey(name[prefix.Length..]))
            .Where(name => !rules.Skip(name[prefix.Length..]))
            .ToList();

        if (missing.Count + unexpected.Count + misShaped.Count > 0)
            throw Mismatch(what, prefix, missing, unexpected, misShaped);

        using var noGrad = no_grad();
        foreach (var (key, target) in targets)
            if (!kept.Contains(key))
                target.copy_(tensors[prefix + key]);
        return kept.ToList();
    }

    private static KdException Mismatch(string what, string prefix, List<string> missing, List<string> unexpected, List<string> misShaped)
    {
        var problems = new[] { ("missing", missing), ("unexpected", unexpected), ("wrong shape", misShaped) }
            .Where(group => group.Item2.Count > 0)
            .Select(group => $"{group.Item1}: {Shorten(group.Item2)}");
        var scope = prefix.Length > 0 ? $" under '{prefix}'" : "";
        return new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
            $"checkpoint state{scope} does not fit {what} ({string.Join("; ", problems)}); " +
            "load it into the same architecture, class count and options it was saved with", what);
    }

    private static string Shorten(List<string> names) =>
        names.Count <= NamesShown
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(NamesShown))} and {names.Count - NamesShown} more";
}

/// <summary>
/// Relaxations of <see cref="ModuleState.Load"/>'s strictness, for weights that come from elsewhere. Keys are the
/// module's own state-dict keys (without the checkpoint prefix).
/// </summary>
internal sealed record StateLoadRules
{
    /// <summary>Every key must be present with its shape and nothing else may share the prefix.</summary>
    public static readonly StateLoadRules Strict = new();

    /// <summary>
    /// Weights written by plain PyTorch: BatchNorm's <c>num_batches_tracked</c> counters may be absent (PyTorch's own
    /// <c>load_state_dict</c> fills them in for state dicts without version metadata, which is what
    /// <c>safetensors.torch.save_file</c> writes). They only matter for a BatchNorm without momentum.
    /// </summary>
    public static readonly StateLoadRules PyTorch = new() { MayBeMissing = key => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) };

    /// <summary>Keys neither loaded nor checked, in the module or the file (a classifier being replaced).</summary>
    public Func<string, bool> Skip { get; init; } = _ => false;

    /// <summary>Module keys that keep their current values when the file lacks them.</summary>
    public Func<string, bool> MayBeMissing { get; init; } = _ => false;
}
