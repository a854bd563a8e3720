using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// torchvision's ResNet-18/34/50/101 as a segmentation backbone with output stride 8
/// (<c>replace_stride_with_dilation=[False, True, True]</c>): 7x7 stride-2 stem conv, BN, ReLU, 3x3 stride-2 max-pool,
/// <c>layer1..4</c> with layer3 and layer4 at stride 1 and dilation 2 and 4 (the first block of a dilated layer keeps
/// the previous dilation, as in torchvision). Attribute names are torchvision's (<c>conv1</c>, <c>bn1</c>,
/// <c>layer1.0.downsample.0</c>, …), so an ImageNet ResNet's state dict without <c>fc</c> loads into it one-to-one.
/// torchvision does not dilate BasicBlocks; here they dilate both 3x3 convolutions, as the official SKD code's ResNet-18
/// does. A <c>width</c> below 64 narrows every layer proportionally (for CPU-sized models).
/// </summary>
internal sealed class DilatedResNet : SegmentationBackbone
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    /// <param name="bottleneck">Bottleneck blocks (ResNet-50/101) instead of BasicBlocks (ResNet-18/34).</param>
    /// <param name="blocksPerStage">Blocks in layer1..4, e.g. 2/2/2/2 for ResNet-18.</param>
    /// <param name="width">Planes of layer1 (64 in torchvision); later layers double it.</param>
    public DilatedResNet(bool bottleneck, int[] blocksPerStage, long width) : base(nameof(DilatedResNet))
    {
        long expansion = bottleneck ? Bottleneck.Expansion : 1;
        _outputChannels = width * 8 * expansion;
        conv1 = ReferenceLayers.Conv(3, width, 7, stride: 2, padding: 3);
        bn1 = nn.BatchNorm2d(width);
        layer1 = Layer(bottleneck, blocksPerStage[0], width, width, stride: 1, firstDilation: 1, dilation: 1);
        layer2 = Layer(bottleneck, blocksPerStage[1], width * expansion, width * 2, stride: 2, firstDilation: 1, dilation: 1);
        layer3 = Layer(bottleneck, blocksPerStage[2], width * 2 * expansion, width * 4, stride: 1, firstDilation: 1, dilation: 2);
        layer4 = Layer(bottleneck, blocksPerStage[3], width * 4 * expansion, width * 8, stride: 1, firstDilation: 2, dilation: 4);
        RegisterComponents();
    }

    private readonly long _outputChannels;

    public override long OutputChannels => _outputChannels;

    public override int InputChannels => (int)conv1.weight!.shape[1];

    public override Tensor Run(Tensor input, FeatureCollector features)
    {
        var x = features.Add(FeatureNames.Stem, nn.functional.relu(bn1.call(conv1.call(input))));
        x = nn.functional.max_pool2d(x, 3, 2, 1);
        x = features.AddStage(1, ResidualStage.Forward(layer1, x));
        x = features.AddStage(2, ResidualStage.Forward(layer2, x));
        x = features.AddStage(3, ResidualStage.Forward(layer3, x));
        return features.AddStage(4, ResidualStage.Forward(layer4, x));
    }

    public override OnnxValue ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.MaxPool(graph.Relu(graph.Conv(input, conv1, bn1)), 3, 2, 1);
        int stage = 1;
        foreach (var layer in new[] { layer1, layer2, layer3, layer4 })
            x = graph.Feature(FeatureNames.Stage(stage++), graph.Relu(graph.Module(layer, x)));
        return x;
    }

    internal static Sequential Layer(bool bottleneck, int blocks, long inPlanes, long planes, long stride, long firstDilation, long dilation) =>
        nn.Sequential(Enumerable.Range(0, blocks).Select(i =>
        {
            long blockIn = i == 0 ? inPlanes : planes * (bottleneck ? Bottleneck.Expansion : 1);
            long blockStride = i == 0 ? stride : 1, blockDilation = i == 0 ? firstDilation : dilation;
            bool endsStage = i == blocks - 1;
            return bottleneck
                ? (nn.Module<Tensor, Tensor>)new Bottleneck(blockIn, planes, blockStride, ShortcutKey.Downsample, endsStage, blockDilation)
                : new BasicBlock(blockIn, planes, blockStride, ShortcutKey.Downsample, endsStage, blockDilation);
        }));
}
