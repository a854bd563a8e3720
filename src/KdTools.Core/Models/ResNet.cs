using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// ResNet-18/34/50 with the CIFAR stem (RepDistiller models/resnetv2.py): 3x3 stride-1 conv-BN-ReLU and no max-pool,
/// four stages of 64/128/256/512 planes at strides 1/2/2/2, global average pooling and <c>linear</c>.
/// Features: <c>stem</c>; <c>stage1..4</c> and their pre-activations (each stage's last block sum before its ReLU);
/// <c>embedding</c>.
/// </summary>
[Registered]
internal sealed class ResNet : ClassifierNet, IOnnxExportable
{
    private const string Family = "resnet";
    private const int Stages = 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly Linear linear;

    private ResNet(string name, int numClasses, bool bottleneck, int[] blocksPerStage) : base(name, numClasses, Stages)
    {
        long expansion = bottleneck ? Bottleneck.Expansion : 1;
        conv1 = ReferenceLayers.Conv3x3(3, 64);
        bn1 = nn.BatchNorm2d(64);
        layer1 = Stage(bottleneck, blocksPerStage[0], 64, 64, stride: 1);
        layer2 = Stage(bottleneck, blocksPerStage[1], 64 * expansion, 128, stride: 2);
        layer3 = Stage(bottleneck, blocksPerStage[2], 128 * expansion, 256, stride: 2);
        layer4 = Stage(bottleneck, blocksPerStage[3], 256 * expansion, 512, stride: 2);
        linear = nn.Linear(512 * expansion, numClasses);
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
        x = features.AddStage(4, ResidualStage.Forward(layer4, x));
        if (features.Complete) return features.Finish();
        var embedding = features.Add(FeatureNames.Embedding, x.mean([2, 3]));
        if (features.Complete) return features.Finish();
        return features.Finish(linear.call(embedding));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Relu(graph.Conv(input, conv1, bn1));
        int stage = 1;
        foreach (var layer in new[] { layer1, layer2, layer3, layer4 })
            x = graph.Feature(FeatureNames.Stage(stage++), graph.Relu(graph.Module(layer, x)));
        return graph.Linear(graph.GlobalAveragePool(x), linear);
    }

    /// <summary>The last block's <c>bn2</c> (BasicBlock) or <c>bn3</c> (Bottleneck) of each stage, as the reference's <c>get_bn_before_relu</c>.</summary>
    public override (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage) =>
        ResidualStage.LastOutputNorm(stage switch { 1 => layer1, 2 => layer2, 3 => layer3, 4 => layer4, _ => null });

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        yield return Info(18, bottleneck: false, [2, 2, 2, 2]);
        yield return Info(34, bottleneck: false, [3, 4, 6, 3]);
        yield return Info(50, bottleneck: true, [3, 4, 6, 3]);
    }

    private static ArchitectureInfo Info(int depth, bool bottleneck, int[] blocksPerStage)
    {
        string name = $"resnet{depth}";
        return new(name, Family,
            $"ResNet-{depth}, CIFAR stem (3x3 stride 1, no max-pool): 4 stages 64/128/256/512, " +
            $"{(bottleneck ? "Bottleneck" : "BasicBlock")}s {string.Join('/', blocksPerStage)}",
            Stages, numClasses => new ResNet(name, numClasses, bottleneck, blocksPerStage));
    }

    private static Sequential Stage(bool bottleneck, int blocks, long inPlanes, long planes, long stride) =>
        ResidualStage.Build(blocks, inPlanes, bottleneck ? planes * Bottleneck.Expansion : planes, stride,
            (blockIn, blockStride, endsStage) => bottleneck
                ? new Bottleneck(blockIn, planes, blockStride, ShortcutKey.Shortcut, endsStage)
                : new BasicBlock(blockIn, planes, blockStride, ShortcutKey.Shortcut, endsStage));
}
