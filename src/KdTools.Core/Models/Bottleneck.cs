using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Bottleneck residual block (He et al., 2016): 1x1 reduce, 3x3 (carrying the stride), 1x1 expand to
/// <see cref="Expansion"/>·planes, plus the shortcut, then ReLU. As in <see cref="BasicBlock"/>, a block that ends
/// its stage returns the sum before that ReLU. Attribute names follow RepDistiller models/resnetv2.py (projection
/// <c>shortcut</c>) or torchvision (<c>downsample</c>); a dilation above 1 dilates (and pads) the 3x3 convolution.
/// </summary>
internal sealed class Bottleneck : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>Output width over the block's planes.</summary>
    public const int Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;

    // The two reference layouts name the projection differently; at most one of these is set.
    private readonly ConvNormSequence? downsample;
    private readonly ConvNormSequence? shortcut;

    private readonly bool _returnsPreActivation;

    public Bottleneck(long inPlanes, long planes, long stride, ShortcutKey shortcutKey, bool returnsPreActivation, long dilation = 1)
        : base(nameof(Bottleneck))
    {
        conv1 = ReferenceLayers.Conv(inPlanes, planes, 1);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = ReferenceLayers.Conv3x3(planes, planes, stride, dilation: dilation);
        bn2 = nn.BatchNorm2d(planes);
        conv3 = ReferenceLayers.Conv(planes, planes * Expansion, 1);
        bn3 = nn.BatchNorm2d(planes * Expansion);
        var projection = ReferenceLayers.ProjectionShortcut(inPlanes, planes * Expansion, stride);
        downsample = shortcutKey == ShortcutKey.Downsample ? projection : null;
        shortcut = shortcutKey == ShortcutKey.Shortcut ? projection : null;
        _returnsPreActivation = returnsPreActivation;
        RegisterComponents();
    }

    /// <summary>The BatchNorm whose output, before the shortcut is added, ends the block (the reference's <c>bn3</c>).</summary>
    public BatchNorm2d OutputNorm => bn3;

    public override Tensor forward(Tensor input)
    {
        // Intermediates are disposed as soon as they are read (see BasicBlock.forward).
        Tensor sum;
        using (var first = nn.functional.relu(BatchNormFolding.ConvNorm(conv1, bn1, input), inplace: true))
        using (var second = nn.functional.relu(BatchNormFolding.ConvNorm(conv2, bn2, first), inplace: true))
            sum = BatchNormFolding.ConvNorm(conv3, bn3, second);
        var projection = downsample ?? shortcut;
        if (projection is null) sum.add_(input);
        else using (var projected = projection.call(input)) sum.add_(projected);
        return _returnsPreActivation ? sum : nn.functional.relu(sum, inplace: true);
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var hidden = graph.Relu(graph.Conv(input, conv1, bn1));
        hidden = graph.Relu(graph.Conv(hidden, conv2, bn2));
        var projection = downsample ?? shortcut;
        var sum = graph.Add(graph.Conv(hidden, conv3, bn3), projection is null ? input : graph.Module(projection, input));
        return _returnsPreActivation ? sum : graph.Relu(sum);
    }
}
