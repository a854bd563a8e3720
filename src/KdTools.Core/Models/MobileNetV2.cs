using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// MobileNetV2 (Sandler et al., 2018) as the CIFAR distillation benchmark defines its student (RepDistiller
/// models/mobilenetv2.py, <c>mobile_half</c>: expansion 6, width ×0.5): a 3x3 stride-2 stem conv-BN-ReLU
/// (<c>conv1</c>), seven groups <c>blocks.0..6</c> of inverted residual blocks (widths 8/12/16/32/48/80/160 at
/// strides 1/1/2/2/1/2/1), a 1x1 conv-BN-ReLU to 1280 channels (<c>conv2</c>), global average pooling and
/// <c>classifier.0</c>.
/// <para>
/// Features, as the reference's <c>forward(is_feat=True)</c> returns them: <c>stem</c> (16 channels at half the input
/// side); <c>stage1..4</c> = the outputs of groups 1, 2, 4 and 6. Those outputs are linear (an inverted residual block
/// ends in conv-BN, plus its input when the shape allows), so the reference returns the same tensors with
/// <c>preact=True</c>: here <c>stageN_preact</c> holds the same values as <c>stageN</c>. <c>embedding</c> is the pooled
/// 1280-channel output of <c>conv2</c>, not the pooled last stage.
/// </para>
/// </summary>
[Registered]
internal sealed class MobileNetV2 : ClassifierNet, IOnnxExportable
{
    private const string Family = "mobilenetv2";
    private const int Stages = 4;
    private const long EmbeddingWidth = 1280;

    /// <summary>The reference's block setting at width 1: expansion t, width c, blocks n, first stride s.</summary>
    private static readonly (bool Expands, long Width, int Blocks, long Stride)[] Groups =
        [(false, 16, 1, 1), (true, 24, 2, 1), (true, 32, 3, 2), (true, 64, 4, 2), (true, 96, 3, 1), (true, 160, 3, 2), (true, 320, 1, 1)];

    /// <summary>The group that ends each feature stage (the reference's f1..f4).</summary>
    private static readonly int[] StageEnds = [1, 2, 4, 6];

    private readonly Sequential conv1;
    private readonly ModuleList<Sequential> blocks;
    private readonly Sequential conv2;
    private readonly Sequential classifier;

    private MobileNetV2(string name, int numClasses, int expansion, double widthMultiplier) : base(name, numClasses, Stages)
    {
        long inChannels = (long)(32 * widthMultiplier);
        conv1 = ConvBnRelu(3, inChannels, 3, stride: 2);
        blocks = new ModuleList<Sequential>();
        foreach (var (expands, width, count, stride) in Groups)
        {
            long outChannels = (long)(width * widthMultiplier);
            var group = new List<nn.Module<Tensor, Tensor>>();
            for (int i = 0; i < count; i++)
            {
                group.Add(new InvertedResidual(inChannels, outChannels, i == 0 ? stride : 1, expands ? expansion : 1));
                inChannels = outChannels;
            }
            blocks.Add(nn.Sequential(group));
        }
        // The reference widens the last conv only for multipliers above 1.
        long lastChannels = widthMultiplier > 1 ? (long)(EmbeddingWidth * widthMultiplier) : EmbeddingWidth;
        conv2 = ConvBnRelu(inChannels, lastChannels, 1, stride: 1);
        var linear = nn.Linear(lastChannels, numClasses);
        nn.init.normal_(linear.weight, std: 0.01);
        nn.init.zeros_(linear.bias!);
        classifier = nn.Sequential(linear);
        RegisterComponents();
    }

    public override ModelOutput Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = new FeatureCollector();
        var x = features.Add(FeatureNames.Stem, conv1.call(input));
        int group = 0;
        for (int stage = 1; stage <= Stages; stage++)
        {
            for (; group <= StageEnds[stage - 1]; group++) x = blocks[group].call(x);
            features.AddStage(stage, x.alias(), x);
        }
        // Global average pooling where the reference has AvgPool2d(input side / 16, ceil_mode): the same on inputs
        // whose side is a multiple of 32, its only supported sizes.
        var embedding = features.Add(FeatureNames.Embedding, conv2.call(x).mean([2, 3]));
        return features.Finish(classifier.call(embedding));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Module(conv1, input);
        int group = 0;
        for (int stage = 1; stage <= Stages; stage++)
        {
            for (; group <= StageEnds[stage - 1]; group++) x = graph.Module(blocks[group], x);
            graph.Feature(FeatureNames.Stage(stage), x);
        }
        return graph.Module(classifier, graph.GlobalAveragePool(graph.Module(conv2, x)));
    }

    /// <summary>The last BN of the stage's last block (the reference's BN-before-ReLU list), before its residual sum.</summary>
    public override (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage)
    {
        if (stage < 1 || stage > Stages) return null;
        var norm = ((InvertedResidual)blocks[StageEnds[stage - 1]].children().Last()).OutputNorm;
        return (norm.weight!, norm.bias!);
    }

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        const string name = "MobileNetV2";
        yield return new(name, Family,
            "MobileNetV2 ×0.5 (RepDistiller's mobile_half), expansion 6: stride-2 stem, 4 stages 12/16/48/160, 1280-d embedding",
            Stages, numClasses => new MobileNetV2(name, numClasses, expansion: 6, widthMultiplier: 0.5))
        { Lightweight = true };
    }

    private static Sequential ConvBnRelu(long inChannels, long outChannels, long kernelSize, long stride) =>
        nn.Sequential(
            ReferenceLayers.Conv(inChannels, outChannels, kernelSize, stride, padding: kernelSize / 2),
            nn.BatchNorm2d(outChannels),
            nn.ReLU(inplace: true));
}

/// <summary>
/// MobileNetV2's inverted residual block: 1x1 expansion conv-BN-ReLU, 3x3 depthwise conv-BN-ReLU (carrying the
/// stride), 1x1 linear projection conv-BN, all under <c>conv</c> (indices 0..7, as the reference's nn.Sequential);
/// plus the input when stride is 1 and the width stays. The expansion conv is there even at expansion 1, as in the
/// reference (torchvision drops it).
/// </summary>
internal sealed class InvertedResidual : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential conv;
    private readonly bool _residual;

    public InvertedResidual(long inChannels, long outChannels, long stride, int expansion) : base(nameof(InvertedResidual))
    {
        long hidden = inChannels * expansion;
        conv = nn.Sequential(
            ReferenceLayers.Conv(inChannels, hidden, 1),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace: true),
            ReferenceLayers.Conv(hidden, hidden, 3, stride, padding: 1, groups: hidden),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace: true),
            ReferenceLayers.Conv(hidden, outChannels, 1),
            nn.BatchNorm2d(outChannels));
        _residual = stride == 1 && inChannels == outChannels;
        RegisterComponents();
    }

    /// <summary>The projection's BN, whose output is the block's output before the residual sum.</summary>
    public BatchNorm2d OutputNorm => (BatchNorm2d)conv.children().Last();

    public override Tensor forward(Tensor input)
    {
        var output = conv.call(input);
        return _residual ? output.add_(input) : output;
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var output = graph.Module(conv, input);
        return _residual ? graph.Add(output, input) : output;
    }
}
