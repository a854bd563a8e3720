using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// ShuffleNet (Zhang et al., 2018) as the CIFAR distillation benchmark defines its <c>ShuffleV1</c> student
/// (RepDistiller models/ShuffleNetv1.py): a 1x1 stem conv-BN-ReLU to 24 channels at full resolution, three stages
/// <c>layer1..3</c> of 4/8/4 grouped bottlenecks (3 groups) ending at 240/480/960 channels, each halving the side,
/// global average pooling and <c>linear</c>. Initial weights are PyTorch's defaults, as the reference sets none.
/// Features: <c>stem</c>; <c>stage1..3</c> and their pre-activations (each stage's last residual sum before its ReLU,
/// the reference's <c>preact=True</c> features); <c>embedding</c>.
/// </summary>
[Registered]
internal sealed class ShuffleNetV1 : ClassifierNet, IOnnxExportable
{
    private const string Family = "shufflenetv1";
    private const int Stages = 3;
    private const long StemWidth = 24;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Linear linear;

    private ShuffleNetV1(string name, int numClasses, long[] widths, int[] blocksPerStage, long groups) : base(name, numClasses, Stages)
    {
        conv1 = nn.Conv2d(3, StemWidth, 1, bias: false);
        bn1 = nn.BatchNorm2d(StemWidth);
        layer1 = Stage(StemWidth, widths[0], blocksPerStage[0], groups);
        layer2 = Stage(widths[0], widths[1], blocksPerStage[1], groups);
        layer3 = Stage(widths[1], widths[2], blocksPerStage[2], groups);
        linear = nn.Linear(widths[2], numClasses);
        RegisterComponents();
    }

    public override ModelOutput Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = new FeatureCollector();
        var x = features.Add(FeatureNames.Stem, nn.functional.relu(bn1.call(conv1.call(input)), inplace: true));
        x = features.AddStage(1, layer1.call(x));
        x = features.AddStage(2, layer2.call(x));
        x = features.AddStage(3, layer3.call(x));
        // Global average pooling where the reference has a fixed 4x4 pool: the same on 32-pixel inputs.
        var embedding = features.Add(FeatureNames.Embedding, x.mean([2, 3]));
        return features.Finish(linear.call(embedding));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Relu(graph.Conv(input, conv1, bn1));
        x = graph.Feature(FeatureNames.Stage(1), graph.Relu(graph.Module(layer1, x)));
        x = graph.Feature(FeatureNames.Stage(2), graph.Relu(graph.Module(layer2, x)));
        x = graph.Feature(FeatureNames.Stage(3), graph.Relu(graph.Module(layer3, x)));
        return graph.Linear(graph.GlobalAveragePool(x), linear);
    }

    /// <summary>
    /// <c>bn3</c> of the stage's last block, whose output plus the block's input is the pre-activation. RepDistiller and
    /// mdistiller list no BN-before-ReLU for ShuffleNets (they do not support them as OFD teachers); this is the BN
    /// their <c>preact</c> feature comes from.
    /// </summary>
    public override (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage)
    {
        var layer = stage switch { 1 => layer1, 2 => layer2, 3 => layer3, _ => null };
        if (layer is null) return null;
        var norm = ((ShuffleV1Bottleneck)layer.children().Last()).OutputNorm;
        return (norm.weight!, norm.bias!);
    }

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        const string name = "ShuffleV1";
        yield return new(name, Family,
            "ShuffleNet V1, 3 groups (RepDistiller's ShuffleV1): 1x1 stem 24, 3 stages 240/480/960 of 4/8/4 bottlenecks",
            Stages, numClasses => new ShuffleNetV1(name, numClasses, [240, 480, 960], [4, 8, 4], groups: 3))
        { Lightweight = true };
    }

    /// <summary>Blocks of one stage; the first halves the side, the last returns its pre-activation.</summary>
    private static Sequential Stage(long inPlanes, long outPlanes, int blocks, long groups) =>
        nn.Sequential(Enumerable.Range(0, blocks).Select(i =>
        {
            long blockIn = i == 0 ? inPlanes : outPlanes;
            // The first block concatenates its pooled input, so its branch produces only the remaining channels.
            long branchOut = i == 0 ? outPlanes - inPlanes : outPlanes;
            return new ShuffleV1Bottleneck(blockIn, branchOut, stride: i == 0 ? 2 : 1, groups,
                groupedInput: blockIn != StemWidth, returnsPreActivation: i == blocks - 1);
        }));
}

/// <summary>
/// ShuffleNet unit: grouped 1x1 reduce to a quarter of the output width (ungrouped on the 24-channel stem), channel
/// shuffle, 3x3 depthwise (carrying the stride), grouped 1x1 expand, each with BN and all but the last with ReLU; then
/// the input added (stride 1) or its 3x3 stride-2 average pool concatenated (stride 2), then ReLU. A block that ends
/// its stage returns the sum before that ReLU, as <see cref="BasicBlock"/> does.
/// </summary>
internal sealed class ShuffleV1Bottleneck : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;

    private readonly long _inputGroups;
    private readonly long _stride;
    private readonly bool _returnsPreActivation;

    public ShuffleV1Bottleneck(long inPlanes, long outPlanes, long stride, long groups, bool groupedInput, bool returnsPreActivation)
        : base(nameof(ShuffleV1Bottleneck))
    {
        long mid = outPlanes / 4;
        _inputGroups = groupedInput ? groups : 1;
        conv1 = nn.Conv2d(inPlanes, mid, 1, groups: _inputGroups, bias: false);
        bn1 = nn.BatchNorm2d(mid);
        conv2 = nn.Conv2d(mid, mid, 3, stride: stride, padding: 1, groups: mid, bias: false);
        bn2 = nn.BatchNorm2d(mid);
        conv3 = nn.Conv2d(mid, outPlanes, 1, groups: groups, bias: false);
        bn3 = nn.BatchNorm2d(outPlanes);
        _stride = stride;
        _returnsPreActivation = returnsPreActivation;
        RegisterComponents();
    }

    /// <summary>The expanding conv's BN, whose output is the block's before the shortcut joins it.</summary>
    public BatchNorm2d OutputNorm => bn3;

    public override Tensor forward(Tensor input)
    {
        var hidden = nn.functional.relu(bn1.call(conv1.call(input)), inplace: true);
        hidden = ChannelShuffle.Apply(hidden, _inputGroups);
        hidden = nn.functional.relu(bn2.call(conv2.call(hidden)), inplace: true);
        var output = bn3.call(conv3.call(hidden));
        var sum = _stride == 2
            ? cat([output, nn.functional.avg_pool2d(input, 3, stride: 2, padding: 1)], 1)
            : output.add_(input);
        return _returnsPreActivation ? sum : nn.functional.relu(sum, inplace: true);
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var hidden = graph.ChannelShuffle(graph.Relu(graph.Conv(input, conv1, bn1)), _inputGroups);
        hidden = graph.Relu(graph.Conv(hidden, conv2, bn2));
        var output = graph.Conv(hidden, conv3, bn3);
        var sum = _stride == 2 ? graph.Concat([output, graph.AveragePool(input, 3, 2, 1)]) : graph.Add(output, input);
        return _returnsPreActivation ? sum : graph.Relu(sum);
    }
}
