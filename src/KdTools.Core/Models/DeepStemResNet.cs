using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// The ResNet of the official SKD code (irfanICMLL/structure_knowledge_distillation, <c>networks/pspnet_combine.py</c>),
/// the backbone of its PSPNet student (ResNet-18) and teacher (ResNet-101), at output stride 8. It differs from
/// torchvision's (<see cref="DilatedResNet"/>) in three places:
/// <list type="bullet">
/// <item>a deep stem: three 3x3 convolutions, each with BN and ReLU, 64, 64 and 128 wide, the first at stride 2
/// (<c>conv1/bn1</c>, <c>conv2/bn2</c>, <c>conv3/bn3</c>), so layer1 takes 128 channels and its first block has a
/// 1x1 projection even in ResNet-18;</item>
/// <item>the 3x3 stride-2 max-pool rounds its output size up (<c>ceil_mode=True</c>): a 512-pixel crop gives 65x65
/// maps where torchvision's gives 64x64;</item>
/// <item>every block of layer3 and layer4 is dilated (2 and 4; layer4's multi-grid is 1, 1, 1), the first one
/// included.</item>
/// </list>
/// The reference's BatchNorm is InPlace-ABN without activation, i.e. a BatchNorm. A <c>width</c> below 64 narrows
/// every layer proportionally (the stem to width, width, 2·width), for CPU-sized models. Features as
/// <see cref="DilatedResNet"/>'s: <c>stem</c> (the third stem convolution's ReLU, before the pool) and <c>stage1..4</c>.
/// </summary>
internal sealed class DeepStemResNet : SegmentationBackbone
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly long _outputChannels;

    /// <param name="bottleneck">Bottleneck blocks (ResNet-101) instead of BasicBlocks (ResNet-18).</param>
    /// <param name="blocksPerStage">Blocks in layer1..4: 2/2/2/2 or 3/4/23/3 in the reference.</param>
    /// <param name="width">Planes of layer1 (64 in the reference); the stem is width, width, 2·width wide.</param>
    public DeepStemResNet(bool bottleneck, int[] blocksPerStage, long width) : base(nameof(DeepStemResNet))
    {
        long expansion = bottleneck ? Bottleneck.Expansion : 1;
        _outputChannels = width * 8 * expansion;
        conv1 = ReferenceLayers.Conv3x3(3, width, stride: 2);
        bn1 = nn.BatchNorm2d(width);
        conv2 = ReferenceLayers.Conv3x3(width, width);
        bn2 = nn.BatchNorm2d(width);
        conv3 = ReferenceLayers.Conv3x3(width, width * 2);
        bn3 = nn.BatchNorm2d(width * 2);
        layer1 = DilatedResNet.Layer(bottleneck, blocksPerStage[0], width * 2, width, stride: 1, firstDilation: 1, dilation: 1);
        layer2 = DilatedResNet.Layer(bottleneck, blocksPerStage[1], width * expansion, width * 2, stride: 2, firstDilation: 1, dilation: 1);
        layer3 = DilatedResNet.Layer(bottleneck, blocksPerStage[2], width * 2 * expansion, width * 4, stride: 1, firstDilation: 2, dilation: 2);
        layer4 = DilatedResNet.Layer(bottleneck, blocksPerStage[3], width * 4 * expansion, width * 8, stride: 1, firstDilation: 4, dilation: 4);
        RegisterComponents();
    }

    public override long OutputChannels => _outputChannels;

    public override int InputChannels => (int)conv1.weight!.shape[1];

    public override Tensor Run(Tensor input, FeatureCollector features)
    {
        var x = nn.functional.relu(bn1.call(conv1.call(input)));
        x = nn.functional.relu(bn2.call(conv2.call(x)));
        x = features.Add(FeatureNames.Stem, nn.functional.relu(bn3.call(conv3.call(x))));
        x = nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode: true);
        x = features.AddStage(1, ResidualStage.Forward(layer1, x));
        x = features.AddStage(2, ResidualStage.Forward(layer2, x));
        x = features.AddStage(3, ResidualStage.Forward(layer3, x));
        return features.AddStage(4, ResidualStage.Forward(layer4, x));
    }

    public override OnnxValue ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Relu(graph.Conv(input, conv1, bn1));
        x = graph.Relu(graph.Conv(x, conv2, bn2));
        x = graph.MaxPool(graph.Relu(graph.Conv(x, conv3, bn3)), 3, 2, 1, ceilMode: true);
        int stage = 1;
        foreach (var layer in new[] { layer1, layer2, layer3, layer4 })
            x = graph.Feature(FeatureNames.Stage(stage++), graph.Relu(graph.Module(layer, x)));
        return x;
    }
}
