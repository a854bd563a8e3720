using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// ShuffleNet V2 ×1 (Ma et al., 2018) as the CIFAR distillation benchmark defines its <c>ShuffleV2</c> student
/// (RepDistiller models/ShuffleNetv2.py): a 1x1 stem conv-BN-ReLU to 24 channels at full resolution, three stages
/// <c>layer1..3</c> (a down-sampling unit, then 3/7/3 basic units) at 116/232/464 channels, each halving the side, a
/// 1x1 conv-BN-ReLU to 1024 channels (<c>conv2</c>, <c>bn2</c>), global average pooling and <c>linear</c>. Initial
/// weights are PyTorch's defaults, as the reference sets none.
/// <para>
/// Features, as the reference's <c>forward(is_feat=True)</c> returns them: <c>stem</c>; <c>stageN</c> = the stage's
/// output, channel-shuffled; <c>stageN_preact</c> = its last unit's concatenation of the passed-through half and the
/// branch before the branch's ReLU, <em>not</em> shuffled (<c>preact=True</c>) — so <c>stageN</c> is the ReLU of
/// <c>stageN_preact</c> only up to a channel permutation. <c>embedding</c> is the pooled 1024-channel output of
/// <c>conv2</c>, not the pooled last stage.
/// </para>
/// </summary>
[Registered]
internal sealed class ShuffleNetV2 : ClassifierNet, IOnnxExportable
{
    private const string Family = "shufflenetv2";
    private const int Stages = 3;
    private const long StemWidth = 24;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Linear linear;

    /// <summary><paramref name="widths"/>: each stage's width, then the embedding width.</summary>
    private ShuffleNetV2(string name, int numClasses, long[] widths, int[] unitsPerStage) : base(name, numClasses, Stages)
    {
        conv1 = nn.Conv2d(3, StemWidth, 1, bias: false);
        bn1 = nn.BatchNorm2d(StemWidth);
        layer1 = Stage(StemWidth, widths[0], unitsPerStage[0]);
        layer2 = Stage(widths[0], widths[1], unitsPerStage[1]);
        layer3 = Stage(widths[1], widths[2], unitsPerStage[2]);
        conv2 = nn.Conv2d(widths[2], widths[3], 1, bias: false);
        bn2 = nn.BatchNorm2d(widths[3]);
        linear = nn.Linear(widths[3], numClasses);
        RegisterComponents();
    }

    public override ModelOutput Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = new FeatureCollector();
        var x = features.Add(FeatureNames.Stem, nn.functional.relu(bn1.call(conv1.call(input)), inplace: true));
        int stage = 1;
        foreach (var layer in new[] { layer1, layer2, layer3 })
        {
            var units = layer.children().Cast<nn.Module<Tensor, Tensor>>().ToList();
            foreach (var unit in units.SkipLast(1)) x = unit.call(x);
            (x, var preActivation) = ((ShuffleV2Unit)units[^1]).RunExposingPreActivation(x);
            features.AddStage(stage++, preActivation, x);
        }
        var head = nn.functional.relu(bn2.call(conv2.call(x)), inplace: true);
        // Global average pooling where the reference has a fixed 4x4 pool: the same on 32-pixel inputs.
        var embedding = features.Add(FeatureNames.Embedding, head.mean([2, 3]));
        return features.Finish(linear.call(embedding));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Relu(graph.Conv(input, conv1, bn1));
        int stage = 1;
        foreach (var layer in new[] { layer1, layer2, layer3 }) x = graph.Feature(FeatureNames.Stage(stage++), graph.Module(layer, x));
        return graph.Linear(graph.GlobalAveragePool(graph.Relu(graph.Conv(x, conv2, bn2))), linear);
    }

    // PreActivationNorm stays null: half of a pre-activation's channels are the unit's input passed through, which no
    // BN produces (RepDistiller and mdistiller do not support ShuffleNetV2 as an OFD teacher either).

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        const string name = "ShuffleV2";
        yield return new(name, Family,
            "ShuffleNet V2 ×1 (RepDistiller's ShuffleV2): 1x1 stem 24, 3 stages 116/232/464 of 1 + 3/7/3 units, 1024-d embedding",
            Stages, numClasses => new ShuffleNetV2(name, numClasses, [116, 232, 464, 1024], [3, 7, 3]))
        { Lightweight = true };
    }

    private static Sequential Stage(long inChannels, long outChannels, int units) =>
        nn.Sequential(Enumerable.Range(0, units)
            .Select(_ => (nn.Module<Tensor, Tensor>)new ShuffleV2Unit(outChannels))
            .Prepend(new ShuffleV2DownUnit(inChannels, outChannels)));
}

/// <summary>
/// ShuffleNet V2 basic unit: the input's first half passes through; the second goes through 1x1 conv-BN-ReLU, 3x3
/// depthwise conv-BN, 1x1 conv-BN-ReLU; the halves are concatenated and shuffled in two groups.
/// </summary>
internal sealed class ShuffleV2Unit : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;

    public ShuffleV2Unit(long channels) : base(nameof(ShuffleV2Unit))
    {
        long half = channels / 2;
        conv1 = nn.Conv2d(half, half, 1, bias: false);
        bn1 = nn.BatchNorm2d(half);
        conv2 = nn.Conv2d(half, half, 3, padding: 1, groups: half, bias: false);
        bn2 = nn.BatchNorm2d(half);
        conv3 = nn.Conv2d(half, half, 1, bias: false);
        bn3 = nn.BatchNorm2d(half);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Run(input, exposePreActivation: false).Output;

    /// <summary>The unit's output and its pre-activation: the passed-through half and the branch before its ReLU, unshuffled.</summary>
    public (Tensor Output, Tensor PreActivation) RunExposingPreActivation(Tensor input)
    {
        var (output, preActivation) = Run(input, exposePreActivation: true);
        return (output, preActivation!);
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        long half = input.Channels / 2;
        var passed = graph.SliceChannels(input, 0, half);
        var branch = graph.Relu(graph.Conv(graph.SliceChannels(input, half, input.Channels), conv1, bn1));
        branch = graph.Relu(graph.Conv(graph.Conv(branch, conv2, bn2), conv3, bn3));
        return graph.ChannelShuffle(graph.Concat([passed, branch]), 2);
    }

    private (Tensor Output, Tensor? PreActivation) Run(Tensor input, bool exposePreActivation)
    {
        long half = input.shape[1] / 2;
        var passed = input.narrow(1, 0, half);
        var branch = nn.functional.relu(bn1.call(conv1.call(input.narrow(1, half, input.shape[1] - half))), inplace: true);
        branch = bn3.call(conv3.call(bn2.call(conv2.call(branch))));
        // cat copies, so the ReLU may then work in place.
        var preActivation = exposePreActivation ? cat([passed, branch], 1) : null;
        return (ChannelShuffle.ConcatenateShuffled(passed, nn.functional.relu(branch, inplace: true)), preActivation);
    }
}

/// <summary>
/// ShuffleNet V2 down-sampling unit: both branches see the whole input and halve its side — 3x3 depthwise conv-BN then
/// 1x1 conv-BN-ReLU on one side; 1x1 conv-BN-ReLU, 3x3 depthwise conv-BN, 1x1 conv-BN-ReLU on the other —, each
/// producing half the output channels; concatenated and shuffled in two groups.
/// </summary>
internal sealed class ShuffleV2DownUnit : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Conv2d conv4;
    private readonly BatchNorm2d bn4;
    private readonly Conv2d conv5;
    private readonly BatchNorm2d bn5;

    public ShuffleV2DownUnit(long inChannels, long outChannels) : base(nameof(ShuffleV2DownUnit))
    {
        long half = outChannels / 2;
        conv1 = nn.Conv2d(inChannels, inChannels, 3, stride: 2, padding: 1, groups: inChannels, bias: false);
        bn1 = nn.BatchNorm2d(inChannels);
        conv2 = nn.Conv2d(inChannels, half, 1, bias: false);
        bn2 = nn.BatchNorm2d(half);
        conv3 = nn.Conv2d(inChannels, half, 1, bias: false);
        bn3 = nn.BatchNorm2d(half);
        conv4 = nn.Conv2d(half, half, 3, stride: 2, padding: 1, groups: half, bias: false);
        bn4 = nn.BatchNorm2d(half);
        conv5 = nn.Conv2d(half, half, 1, bias: false);
        bn5 = nn.BatchNorm2d(half);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var left = bn1.call(conv1.call(input));
        left = nn.functional.relu(bn2.call(conv2.call(left)), inplace: true);
        var right = nn.functional.relu(bn3.call(conv3.call(input)), inplace: true);
        right = bn4.call(conv4.call(right));
        right = nn.functional.relu(bn5.call(conv5.call(right)), inplace: true);
        return ChannelShuffle.ConcatenateShuffled(left, right);
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var left = graph.Relu(graph.Conv(graph.Conv(input, conv1, bn1), conv2, bn2));
        var right = graph.Relu(graph.Conv(input, conv3, bn3));
        right = graph.Relu(graph.Conv(graph.Conv(right, conv4, bn4), conv5, bn5));
        return graph.ChannelShuffle(graph.Concat([left, right]), 2);
    }
}
