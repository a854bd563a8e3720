using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// VGG with batch norm, CIFAR variant (RepDistiller models/vgg.py): five conv blocks <c>block0..block4</c> of
/// 3x3 conv-BN-ReLU layers (the ReLU after each block's last BN applied by the network), 2x2 max-pools between
/// blocks, global average pooling and one <c>classifier</c> Linear(512, classes).
/// Features: <c>stem</c> = ReLU of block0; <c>stage1..4</c> = blocks 1..4, each block's last BN output as the
/// pre-activation (as the reference's preact features and BN-before-ReLU list); <c>embedding</c>.
/// <para>
/// Not DIH's VGG-11. DIH's code (its VGG_Models.py, the common kuangliu CIFAR VGG) has the same conv widths and
/// parameters but max-pools after every block down to a 1×1 map, with no average pooling, and taps its four head
/// inputs at other points: after the first pool (64×16×16), after the second block's ReLU (128×16×16, before its pool),
/// after the third block's first conv-BN (256×8×8, before its ReLU) and at the final 512×1×1 map. Here the four stages
/// give Add-IntermediateHead as many heads as DIH mounts, at RepDistiller's block boundaries, so a DIH run on
/// <c>vgg11</c> is not DIH's VGG-11 experiment.
/// </para>
/// </summary>
[Registered]
internal sealed class Vgg : ClassifierNet, IOnnxExportable
{
    private const string Family = "vgg";
    private const int Stages = 4;

    /// <summary>
    /// The reference max-pools block3's output only for 64-pixel inputs (Tiny-ImageNet), so block4 works on 4x4 maps
    /// for both CIFAR and Tiny-ImageNet; here any input taller than CIFAR's 32 pixels is pooled.
    /// </summary>
    private const long LargestInputWithoutPool3 = 32;

    private readonly ConvNormSequence block0;
    private readonly ConvNormSequence block1;
    private readonly ConvNormSequence block2;
    private readonly ConvNormSequence block3;
    private readonly ConvNormSequence block4;
    private readonly Linear classifier;

    /// <summary><paramref name="blockWidths"/>: the output width of each conv layer, per block.</summary>
    private Vgg(string name, int numClasses, long[][] blockWidths) : base(name, numClasses, Stages)
    {
        block0 = Block(3, blockWidths[0]);
        block1 = Block(blockWidths[0][^1], blockWidths[1]);
        block2 = Block(blockWidths[1][^1], blockWidths[2]);
        block3 = Block(blockWidths[2][^1], blockWidths[3]);
        block4 = Block(blockWidths[3][^1], blockWidths[4]);
        classifier = nn.Linear(blockWidths[4][^1], numClasses);
        nn.init.normal_(classifier.weight, std: 0.01);
        nn.init.zeros_(classifier.bias!);
        RegisterComponents();
    }

    public override ModelOutput Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = new FeatureCollector();
        var x = features.Add(FeatureNames.Stem, nn.functional.relu(block0.call(input), inplace: true));
        x = features.AddStage(1, block1.call(MaxPool(x)));
        x = features.AddStage(2, block2.call(MaxPool(x)));
        x = features.AddStage(3, block3.call(MaxPool(x)));
        if (input.shape[2] > LargestInputWithoutPool3) x = MaxPool(x);
        x = features.AddStage(4, block4.call(x));
        var embedding = features.Add(FeatureNames.Embedding, x.mean([2, 3]));
        return features.Finish(classifier.call(embedding));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Relu(graph.Module(block0, input));
        x = graph.Feature(FeatureNames.Stage(1), graph.Relu(graph.Module(block1, graph.MaxPool(x, 2, 2))));
        x = graph.Feature(FeatureNames.Stage(2), graph.Relu(graph.Module(block2, graph.MaxPool(x, 2, 2))));
        x = graph.Feature(FeatureNames.Stage(3), graph.Relu(graph.Module(block3, graph.MaxPool(x, 2, 2))));
        if (input.Height > LargestInputWithoutPool3) x = graph.MaxPool(x, 2, 2);
        x = graph.Feature(FeatureNames.Stage(4), graph.Relu(graph.Module(block4, x)));
        return graph.Linear(graph.GlobalAveragePool(x), classifier);
    }

    /// <summary>The last BatchNorm of blocks 1..4 (stages 1..4), as the reference's <c>get_bn_before_relu</c>.</summary>
    public override (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage)
    {
        var norm = (stage switch { 1 => block1, 2 => block2, 3 => block3, 4 => block4, _ => null })?.children().OfType<BatchNorm2d>().Last();
        return norm is null ? null : (norm.weight!, norm.bias!);
    }

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        long[][] vgg8 = [[64], [128], [256], [512], [512]];
        long[][] vgg11 = [[64], [128], [256, 256], [512, 512], [512, 512]];
        long[][] vgg13 = [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]];
        long[][] vgg16 = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
        long[][] vgg19 = [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]];
        foreach (var (depth, widths) in new[] { (8, vgg8), (11, vgg11), (13, vgg13), (16, vgg16), (19, vgg19) })
        {
            string name = $"vgg{depth}";
            string layout = string.Join(" | ", widths.Select(block => string.Join('/', block)));
            Func<int, ClassifierNet> create = numClasses => new Vgg(name, numClasses, widths);
            yield return new(name, Family, $"VGG-{depth} with batch norm, CIFAR variant: conv blocks {layout}", Stages, create);
            yield return new($"{name}_bn", Family, $"VGG-{depth} with batch norm (same as {name})", Stages, create);
        }
    }

    private static Tensor MaxPool(Tensor x) => nn.functional.max_pool2d(x, 2, 2);

    /// <summary>conv-BN-ReLU per width, without the last ReLU; indices match the reference's nn.Sequential keys.</summary>
    private static ConvNormSequence Block(long inChannels, long[] widths)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        foreach (long width in widths)
        {
            if (layers.Count > 0) layers.Add(nn.ReLU(inplace: true));
            layers.Add(ReferenceLayers.Conv3x3(inChannels, width, bias: true));
            layers.Add(nn.BatchNorm2d(width));
            inChannels = width;
        }
        return new ConvNormSequence(layers);
    }
}
