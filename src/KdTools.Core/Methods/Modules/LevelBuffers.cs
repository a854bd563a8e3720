using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// Constant tensors a method derives once per level (OFD's margins), held as buffers <c>0</c>, <c>1</c>, … so they move
/// to the training device and into checkpoints with the method's other modules.
/// </summary>
internal sealed class LevelBuffers : nn.Module
{
    public LevelBuffers(IEnumerable<Tensor> values) : base(nameof(LevelBuffers))
    {
        int level = 0;
        foreach (var value in values) register_buffer($"{level++}", value);
        Count = level;
    }

    public int Count { get; }

    public Tensor this[int level] => get_buffer($"{level}");
}
