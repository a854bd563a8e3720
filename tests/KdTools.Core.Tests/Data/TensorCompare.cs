using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

internal static class TensorCompare
{
    /// <summary>Same dtype, same shape, every element equal. (TorchSharp's <c>Tensor.equal</c> is element-wise <c>eq</c>.)</summary>
    public static bool Identical(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape))
            return false;
        using var scope = NewDisposeScope();
        return a.eq(b).all().item<bool>();
    }
}
