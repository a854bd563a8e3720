using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>One stage of a Wide ResNet (the reference's <c>NetworkBlock</c>, blocks under <c>layer</c>).</summary>
internal sealed class WideStage : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential layer;

    // The same modules as `layer`, typed; not a Module, so they are registered once, through `layer`.
    private readonly WideBasicBlock[] _blocks;

    public WideStage(int blockCount, long inPlanes, long outPlanes, long stride) : base(nameof(WideStage))
    {
        _blocks = Enumerable.Range(0, blockCount)
            .Select(i => new WideBasicBlock(i == 0 ? inPlanes : outPlanes, outPlanes, i == 0 ? stride : 1))
            .ToArray();
        layer = nn.Sequential(_blocks);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => layer.call(input);

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input) => graph.Module(layer, input);

    /// <summary>The BN at the stage's entry, which normalises the previous stage's output.</summary>
    public BatchNorm2d InputNorm => _blocks[0].InputNorm;

    /// <summary>
    /// The stage's output plus the BN output its first block computes from <paramref name="input"/>, i.e. the
    /// previous stage's pre-activation.
    /// </summary>
    public (Tensor Output, Tensor InputPreActivation) RunExposingInput(Tensor input)
    {
        var (x, preActivation) = _blocks[0].RunExposingInput(input);
        foreach (var block in _blocks.Skip(1)) x = block.call(x);
        return (x, preActivation);
    }
}
