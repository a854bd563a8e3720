using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// The CIFAR ResNets of He et al. (2016) as the CIFAR distillation benchmark defines them (RepDistiller
/// models/resnet.py): 3x3 stem conv-BN-ReLU, three stages of (depth − 2) / 6 BasicBlocks at strides 1/2/2, global
/// average pooling and <c>fc</c>. Features: <c>stem</c>; <c>stage1..3</c> and their pre-activations (each stage's last
/// block sum before its ReLU); <c>embedding</c>.
/// </summary>
[Registered]
internal sealed class CifarResNet : ClassifierNet, IOnnxExportable
{
    private const string Family = "cifar-resnet";
    private const int Stages = 3;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Linear fc;

    /// <summary><paramref name="widths"/>: the stem width, then the width of each stage.</summary>
    private CifarResNet(string name, int numClasses, int depth, long[] widths) : base(name, numClasses, Stages)
    {
        int blocksPerStage = BlocksPerStage(depth);
        conv1 = ReferenceLayers.Conv3x3(3, widths[0]);
        bn1 = nn.BatchNorm2d(widths[0]);
        layer1 = Stage(blocksPerStage, widths[0], widths[1], stride: 1);
        layer2 = Stage(blocksPerStage, widths[1], widths[2], stride: 2);
        layer3 = Stage(blocksPerStage, widths[2], widths[3], stride: 2);
        fc = nn.Linear(widths[3], numClasses);
        RegisterComponents();
    }

    internal override bool SelectsFeatures => true;

    public override ModelOutput Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        // A pass asked for some stage features and no logits ends after the last of them (FeatureRequest).
        var features = new FeatureCollector();
        var x = features.Add(FeatureNames.Stem, nn.functional.relu(BatchNormFolding.ConvNorm(conv1, bn1, input), inplace: true));
        x = features.AddStage(1, ResidualStage.Forward(layer1, x));
        if (features.Complete) return features.Finish();
        x = features.AddStage(2, ResidualStage.Forward(layer2, x));
        if (features.Complete) return features.Finish();
        x = features.AddStage(3, ResidualStage.Forward(layer3, x));
        if (features.Complete) return features.Finish();
        // Global average pooling where the reference has a fixed AvgPool2d(8): the same on 32-pixel inputs, and
        // other image sizes still reach fc with the right width.
        var embedding = features.Add(FeatureNames.Embedding, x.mean([2, 3]));
        if (features.Complete) return features.Finish();
        return features.Finish(fc.call(embedding));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Relu(graph.Conv(input, conv1, bn1));
        x = graph.Feature(FeatureNames.Stage(1), graph.Relu(graph.Module(layer1, x)));
        x = graph.Feature(FeatureNames.Stage(2), graph.Relu(graph.Module(layer2, x)));
        x = graph.Feature(FeatureNames.Stage(3), graph.Relu(graph.Module(layer3, x)));
        return graph.Linear(graph.GlobalAveragePool(x), fc);
    }

    /// <summary>The last block's <c>bn2</c> of each stage, as the reference's <c>get_bn_before_relu</c>.</summary>
    public override (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage) =>
        ResidualStage.LastOutputNorm(stage switch { 1 => layer1, 2 => layer2, 3 => layer3, _ => null });

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        long[] thin = [16, 16, 32, 64];
        foreach (int depth in new[] { 8, 14, 20, 32, 44, 56, 110 })
            yield return Info($"resnet{depth}", depth, thin, $"CIFAR ResNet-{depth}: 3 stages 16/32/64");

        long[] wide = [32, 64, 128, 256];
        foreach (int depth in new[] { 8, 32 })
            yield return Info($"resnet{depth}x4", depth, wide, $"CIFAR ResNet-{depth}x4: stem 32, 3 stages 64/128/256");
    }

    private static ArchitectureInfo Info(string name, int depth, long[] widths, string summary) =>
        new(name, Family, $"{summary}, {BlocksPerStage(depth)} BasicBlock(s) per stage", Stages,
            numClasses => new CifarResNet(name, numClasses, depth, widths));

    private static int BlocksPerStage(int depth) => (depth - 2) / 6;

    private static Sequential Stage(int blocks, long inPlanes, long planes, long stride) =>
        ResidualStage.Build(blocks, inPlanes, planes, stride,
            (blockIn, blockStride, endsStage) => new BasicBlock(blockIn, planes, blockStride, ShortcutKey.Downsample, endsStage));
}
