using static TorchSharp.torch;

namespace KdTools.Core.Checkpoints;

/// <summary>
/// Moves a TorchSharp module's state (parameters and persistent buffers such as BatchNorm running statistics)
/// in and out of a flat name → tensor map, with an optional key prefix so several modules share one checkpoint.
/// </summary>
public static class ModuleState
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
    /// <param name="what">What the checkpoint was saved for (for example "student resnet8, 100 classes"); quoted in the error.</param>
    /// <exception cref="KdException"><see cref="KdErrorIds.CheckpointMismatch"/> listing missing, unexpected and mis-shaped keys.</exception>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string prefix, string what)
    {
        var targets = module.state_dict();
        var missing = new List<string>();
        var misShaped = new List<string>();
        foreach (var (key, target) in targets)
        {
            if (!tensors.TryGetValue(prefix + key, out var source))
                missing.Add(prefix + key);
            else if (!source.shape.SequenceEqual(target.shape))
                misShaped.Add($"{prefix + key} (checkpoint [{string.Join(", ", source.shape)}], model [{string.Join(", ", target.shape)}])");
        }
        var unexpected = tensors.Keys
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && !targets.ContainsKey(name[prefix.Length..]))
            .ToList();

        if (missing.Count + unexpected.Count + misShaped.Count > 0)
            throw Mismatch(what, prefix, missing, unexpected, misShaped);

        using var noGrad = no_grad();
        foreach (var (key, target) in targets)
            target.copy_(tensors[prefix + key]);
    }

    private static KdException Mismatch(string what, string prefix, List<string> missing, List<string> unexpected, List<string> misShaped)
    {
        var problems = new[] { ("missing", missing), ("unexpected", unexpected), ("wrong shape", misShaped) }
            .Where(group => group.Item2.Count > 0)
            .Select(group => $"{group.Item1}: {Shorten(group.Item2)}");
        var scope = prefix.Length > 0 ? $" under '{prefix}'" : "";
        return new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
            $"checkpoint state{scope} was saved for {what} and does not fit this model ({string.Join("; ", problems)}); " +
            "load it into the same architecture, class count and options it was saved with", what);
    }

    private static string Shorten(List<string> names) =>
        names.Count <= NamesShown
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(NamesShown))} and {names.Count - NamesShown} more";
}
