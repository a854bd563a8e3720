using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

/// <summary>
/// Switches libtorch's default floating dtype for a block, so every network, method module and input the engine creates
/// is float64 (or float32). Process-wide: the test assembly runs its classes one after another.
/// </summary>
internal sealed class DefaultDtypeScope : IDisposable
{
    private readonly ScalarType _previous = get_default_dtype();

    public DefaultDtypeScope(ScalarType dtype) => set_default_dtype(dtype);

    public void Dispose() => set_default_dtype(_previous);
}
