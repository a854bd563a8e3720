using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Pre-activation residual block of a Wide ResNet (Zagoruyko and Komodakis, 2016; RepDistiller models/wrn.py,
/// dropout 0): <c>conv2(relu(bn2(conv1(a)))) + shortcut</c> with <c>a = relu(bn1(x))</c>. The shortcut is <c>x</c>
/// itself when the width stays, else <c>convShortcut(a)</c>.
/// </summary>
internal sealed class WideBasicBlock : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv2;
    private readonly Conv2d? convShortcut;

    public WideBasicBlock(long inPlanes, long outPlanes, long stride) : base(nameof(WideBasicBlock))
    {
        bn1 = nn.BatchNorm2d(inPlanes);
        conv1 = ReferenceLayers.Conv3x3(inPlanes, outPlanes, stride);
        bn2 = nn.BatchNorm2d(outPlanes);
        conv2 = ReferenceLayers.Conv3x3(outPlanes, outPlanes);
        // Like the reference, the projection depends on the width only; a stride-2 block always widens too.
        convShortcut = inPlanes == outPlanes ? null : ReferenceLayers.Conv(inPlanes, outPlanes, 1, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        Residual(input, nn.functional.relu(bn1.call(input), inplace: true));

    /// <summary>The BN at the block's entry; for the first block of a stage, the previous stage's pre-activation norm.</summary>
    public BatchNorm2d InputNorm => bn1;

    /// <summary>
    /// The block's output plus the BN output it computes at its entry. For the first block of a stage this is the
    /// previous stage's pre-activation.
    /// </summary>
    public (Tensor Output, Tensor InputPreActivation) RunExposingInput(Tensor input)
    {
        var preActivation = bn1.call(input);
        return (Residual(input, nn.functional.relu(preActivation)), preActivation);
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var activation = graph.Relu(graph.BatchNorm(input, bn1));
        var hidden = graph.Relu(graph.Conv(activation, conv1, bn2));
        return graph.Add(graph.Conv(hidden, conv2), convShortcut is null ? input : graph.Conv(activation, convShortcut));
    }

    private Tensor Residual(Tensor input, Tensor activation)
    {
        var hidden = nn.functional.relu(BatchNormFolding.ConvNorm(conv1, bn2, activation), inplace: true);
        var sum = conv2.call(hidden);
        return sum.add_(convShortcut is null ? input : convShortcut.call(activation));
    }
}
