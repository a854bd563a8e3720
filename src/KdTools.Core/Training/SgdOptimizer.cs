using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// SGD with momentum, optional Nesterov and L2 weight decay, with PyTorch's update rule (dampening 0):
/// g ← ∇ + wd·p; v ← μ·v + g; p ← p − lr·(Nesterov ? g + μ·v : v).
/// Written here rather than using torch.optim so the momentum buffers are plain named tensors that go into and come
/// back from checkpoints exactly, which makes resume bit-identical to an uninterrupted run.
/// </summary>
internal sealed class SgdOptimizer : IDisposable
{
    private readonly List<(string Name, Parameter Param, Tensor Velocity)> _slots = [];

    /// <param name="parameters">Named trainable parameters; the names key the momentum buffers in checkpoints.</param>
    public SgdOptimizer(IEnumerable<(string Name, Parameter Param)> parameters, double learningRate, double momentum,
        double weightDecay, bool nesterov)
    {
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in parameters)
            if (p.requires_grad) _slots.Add((name, p, torch.zeros_like(p).DetachFromDisposeScope()));
    }

    public double LearningRate { get; set; }
    public double Momentum { get; }
    public double WeightDecay { get; }
    public bool Nesterov { get; }

    public IEnumerable<(string Name, Tensor Velocity)> Buffers => _slots.Select(s => (s.Name, s.Velocity));

    /// <summary>
    /// Drops the gradients (PyTorch's set_to_none), so a parameter the next loss does not reach keeps a null gradient
    /// and <see cref="Step"/> leaves it alone: no stale gradient, no weight decay on modules a stage does not train.
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var (_, p, _) in _slots) p.grad = null!;
    }

    /// <summary>One update. Call inside the step's dispose scope: temporaries die with it.</summary>
    public void Step()
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, p, v) in _slots)
        {
            var grad = p.grad;
            if (grad is null) continue;
            var g = WeightDecay != 0 ? grad.add(p, alpha: WeightDecay) : grad;
            if (Momentum != 0)
            {
                v.mul_(Momentum).add_(g);
                g = Nesterov ? g.add(v, alpha: Momentum) : v;
            }
            p.add_(g, alpha: -LearningRate);
        }
    }

    /// <summary>Restores momentum buffers saved by name; a missing one is a corrupt checkpoint.</summary>
    public void LoadBuffers(IReadOnlyDictionary<string, Tensor> byName, string source)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, _, v) in _slots)
        {
            if (!byName.TryGetValue(name, out var saved) || !saved.shape.SequenceEqual(v.shape))
                throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                    $"checkpoint '{source}' has no matching optimizer state for '{name}'; it was saved for another model or method");
            v.copy_(saved);
        }
    }

    public void Dispose()
    {
        foreach (var (_, _, v) in _slots) v.Dispose();
        _slots.Clear();
    }
}
