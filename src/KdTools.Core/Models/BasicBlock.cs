using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>Which attribute name the reference gives a block's projection shortcut; it becomes the state-dict key.</summary>
internal enum ShortcutKey
{
    /// <summary>RepDistiller models/resnet.py (CIFAR ResNets) and torchvision's ResNets: <c>downsample</c>.</summary>
    Downsample,

    /// <summary>RepDistiller models/resnetv2.py (ResNet-18/34/50): <c>shortcut</c>.</summary>
    Shortcut,
}

/// <summary>
/// Residual block of two 3x3 conv-BN layers (He et al., 2016): <c>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))</c>.
/// A block that ends its stage returns the sum before that last ReLU, so the network can keep it as the stage's
/// pre-activation feature and apply the ReLU itself (what the reference's <c>is_last</c> flag is for).
/// A dilation above 1 dilates (and pads) both 3x3 convolutions, as the official SKD code's dilated ResNet-18 does.
/// </summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;

    // The two reference files name the projection differently; at most one of these is set.
    private readonly ConvNormSequence? downsample;
    private readonly ConvNormSequence? shortcut;

    private readonly bool _returnsPreActivation;

    public BasicBlock(long inPlanes, long planes, long stride, ShortcutKey shortcutKey, bool returnsPreActivation, long dilation = 1)
        : base(nameof(BasicBlock))
    {
        conv1 = ReferenceLayers.Conv3x3(inPlanes, planes, stride, dilation: dilation);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = ReferenceLayers.Conv3x3(planes, planes, dilation: dilation);
        bn2 = nn.BatchNorm2d(planes);
        var projection = ReferenceLayers.ProjectionShortcut(inPlanes, planes, stride);
        downsample = shortcutKey == ShortcutKey.Downsample ? projection : null;
        shortcut = shortcutKey == ShortcutKey.Shortcut ? projection : null;
        _returnsPreActivation = returnsPreActivation;
        RegisterComponents();
    }

    /// <summary>The BatchNorm whose output, before the shortcut is added, ends the block (the reference's <c>bn2</c>).</summary>
    public BatchNorm2d OutputNorm => bn2;

    public override Tensor forward(Tensor input)
    {
        // Intermediates are disposed as soon as they are read (autograd keeps its own references): under no_grad their
        // memory is reused at once, as PyTorch's reference counting reuses it, instead of piling up until the pass ends.
        Tensor sum;
        using (var hidden = nn.functional.relu(BatchNormFolding.ConvNorm(conv1, bn1, input), inplace: true))
            sum = BatchNormFolding.ConvNorm(conv2, bn2, hidden);
        var projection = downsample ?? shortcut;
        if (projection is null) sum.add_(input);
        else using (var projected = projection.call(input)) sum.add_(projected);
        return _returnsPreActivation ? sum : nn.functional.relu(sum, inplace: true);
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var hidden = graph.Relu(graph.Conv(input, conv1, bn1));
        var projection = downsample ?? shortcut;
        var sum = graph.Add(graph.Conv(hidden, conv2, bn2), projection is null ? input : graph.Module(projection, input));
        return _returnsPreActivation ? sum : graph.Relu(sum);
    }
}
