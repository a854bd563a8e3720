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
