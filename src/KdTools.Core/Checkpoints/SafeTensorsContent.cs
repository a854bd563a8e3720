using System.Collections.ObjectModel;
using static TorchSharp.torch;

namespace KdTools.Core.Checkpoints;

/// <summary>
/// What <see cref="SafeTensorsFile.Read"/> loaded: CPU tensors in file order plus the string metadata.
/// Owns the tensors (they belong to no dispose scope): dispose it once their values are copied where they are needed.
/// </summary>
public sealed class SafeTensorsContent : IDisposable
{
    private readonly OrderedDictionary<string, Tensor> _tensors;

    internal SafeTensorsContent(OrderedDictionary<string, Tensor> tensors, OrderedDictionary<string, string> metadata)
    {
        _tensors = tensors;
        Tensors = new ReadOnlyDictionary<string, Tensor>(tensors);
        Metadata = new ReadOnlyDictionary<string, string>(metadata);
    }

    /// <summary>Tensors by name, enumerated in the order their bytes appear in the file.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public void Dispose()
    {
        foreach (var tensor in _tensors.Values)
            tensor.Dispose();
    }
}
