using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>An in-memory copy of a model's state (parameters and BN buffers), updated in place, for "keep the best epoch".</summary>
internal sealed class WeightSnapshot : IDisposable
{
    private readonly List<(string Name, Tensor Copy)> _copies = [];

    public WeightSnapshot(ClassifierNet model)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in model.state_dict())
            _copies.Add((name, tensor.detach().clone().DetachFromDisposeScope()));
    }

    public void Capture(ClassifierNet model) => Copy(model, toModel: false);

    /// <summary>The copies under their state-dict keys with <paramref name="prefix"/>, for a resumable checkpoint.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Entries(string prefix) =>
        _copies.Select(c => KeyValuePair.Create(prefix + c.Name, c.Copy));

    /// <summary>Restores copies saved by <see cref="Entries"/> from <paramref name="tensors"/>; every key must be there.</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> tensors, string prefix, string source)
    {
        var missing = _copies.Where(c => !tensors.TryGetValue(prefix + c.Name, out var saved) || !saved.shape.SequenceEqual(c.Copy.shape))
            .Select(c => prefix + c.Name).ToList();
        if (missing.Count > 0)
            throw new KdException(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
                $"checkpoint '{source}' lacks the best epoch's weights ({string.Join(", ", missing.Take(3))}{(missing.Count > 3 ? ", …" : "")}); " +
                "use an unedited copy or an earlier checkpoint", source);
        using var noGrad = torch.no_grad();
        foreach (var (name, copy) in _copies) copy.copy_(tensors[prefix + name]);
    }

    public void RestoreInto(ClassifierNet model) => Copy(model, toModel: true);

    private void Copy(ClassifierNet model, bool toModel)
    {
        using var noGrad = torch.no_grad();
        var live = model.state_dict();
        foreach (var (name, copy) in _copies)
        {
            if (toModel) live[name].copy_(copy);
            else copy.copy_(live[name]);
        }
    }

    public void Dispose()
    {
        foreach (var (_, copy) in _copies) copy.Dispose();
    }
}
