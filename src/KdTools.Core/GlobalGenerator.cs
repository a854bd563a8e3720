using TorchSharp;

namespace KdTools.Core;

/// <summary>
/// libtorch's one process-wide generator, serialised. TorchSharp's module constructors draw their default
/// initialisation from it and take no generator, so building modules is the one place KdTools still uses it: every
/// such section runs under one lock, re-seeded when its draws matter, so runs in parallel runspaces cannot take each
/// other's numbers. Everything else draws from explicit generators.
/// </summary>
internal static class GlobalGenerator
{
    private static readonly object Gate = new();

    /// <summary>Runs <paramref name="build"/> with the global generator seeded with <paramref name="seed"/>, exclusively.</summary>
    public static T Seeded<T>(long seed, Func<T> build)
    {
        lock (Gate)
        {
            torch.manual_seed(seed);
            return build();
        }
    }

    /// <summary>Runs <paramref name="build"/> exclusively, for modules whose drawn values are overwritten (loading, copying).</summary>
    public static T Exclusive<T>(Func<T> build)
    {
        lock (Gate) return build();
    }
}
