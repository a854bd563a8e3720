using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>Linear projection of a flattened feature, optionally L2-normalised per row (CRD's and CC's embedding heads).</summary>
internal sealed class EmbeddingHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear;
    private readonly bool _normalize;

    public EmbeddingHead(long inputs, long outputs, bool normalize) : base(nameof(EmbeddingHead))
    {
        linear = nn.Linear(inputs, outputs);
        _normalize = normalize;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var projected = linear.call(input.flatten(1));
        return _normalize ? nn.functional.normalize(projected, p: 2, dim: 1) : projected;
    }
}
