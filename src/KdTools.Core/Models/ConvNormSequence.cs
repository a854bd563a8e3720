using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// A <c>Sequential</c> of layers (state keys <c>0</c>, <c>1</c>, …, as PyTorch's nn.Sequential) in which every
/// convolution directly followed by a BatchNorm runs through <see cref="BatchNormFolding.ConvNorm"/>, so a frozen copy
/// can fold that BatchNorm away. TorchSharp's Sequential cannot skip one of its layers.
/// </summary>
internal sealed class ConvNormSequence : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor>[] _layers;

    public ConvNormSequence(IEnumerable<nn.Module<Tensor, Tensor>> layers) : base(nameof(ConvNormSequence))
    {
        _layers = layers.ToArray();
        for (int i = 0; i < _layers.Length; i++) register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _layers[i]);
    }

    public override Tensor forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Length; i++)
        {
            Tensor next;
            if (_layers[i] is Conv2d conv && i + 1 < _layers.Length && _layers[i + 1] is BatchNorm2d norm)
            {
                next = BatchNormFolding.ConvNorm(conv, norm, x);
                i++;
            }
            else next = _layers[i].call(x);
            // An intermediate is freed once the next layer has read it (autograd keeps its own reference); an in-place
            // layer returns its input, which stays.
            if (!ReferenceEquals(x, input) && !ReferenceEquals(next, x)) x.Dispose();
            x = next;
        }
        return x;
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input) => graph.Layers(_layers, input);
}
