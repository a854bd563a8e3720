using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Wide ResNet WRN-d-k for CIFAR (RepDistiller models/wrn.py, dropout 0): 3x3 stem conv, three stages
/// <c>block1..3</c> of (d − 4) / 6 pre-activation blocks at widths 16k/32k/64k and strides 1/2/2, final
/// <c>bn1</c> + ReLU, global average pooling (the reference's fixed 8x8 pool, the same on 32-pixel inputs) and <c>fc</c>.
/// <para>
/// Features, as the reference's <c>forward(is_feat=True)</c> returns them. <c>stem</c> is the stem conv output and
/// <c>stageN</c> the raw output of block group N: a bare residual sum, with no BN or ReLU after it (pre-activation
/// blocks normalise at their entry). <c>stageN_preact</c> is that sum after the BN that follows it — the next group's
/// first <c>bn1</c>, or the final <c>bn1</c> for stage 3 — as with <c>preact=True</c>, and those BNs are the
/// reference's BN-before-ReLU list (<see cref="PreActivationNorm"/>). So, unlike the post-activation families,
/// <c>stageN</c> is not <c>relu(stageN_preact)</c>. Each pre-activation is computed once, inside the next group, so
/// groups 2 and 3 run their blocks directly rather than through the group module's <c>call</c>, and those BNs' running
/// statistics move once per training step (RepDistiller's <c>preact=True</c> applies them a second time, so there they
/// move twice; its values are the same).
/// </para>
/// </summary>
[Registered]
internal sealed class WideResNet : ClassifierNet, IOnnxExportable
{
    private const string Family = "wrn";
    private const int Stages = 3;

    private readonly Conv2d conv1;
    private readonly WideStage block1;
    private readonly WideStage block2;
    private readonly WideStage block3;
    private readonly BatchNorm2d bn1;
    private readonly Linear fc;

    private WideResNet(string name, int numClasses, int depth, int widenFactor) : base(name, numClasses, Stages)
    {
        int blocksPerStage = (depth - 4) / 6;
        long[] widths = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor];
        conv1 = ReferenceLayers.Conv3x3(3, widths[0]);
        block1 = new WideStage(blocksPerStage, widths[0], widths[1], stride: 1);
        block2 = new WideStage(blocksPerStage, widths[1], widths[2], stride: 2);
        block3 = new WideStage(blocksPerStage, widths[2], widths[3], stride: 2);
        bn1 = nn.BatchNorm2d(widths[3]);
        fc = nn.Linear(widths[3], numClasses);
        nn.init.zeros_(fc.bias!);
        RegisterComponents();
    }

    public override ModelOutput Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = new FeatureCollector();
        var stem = features.Add(FeatureNames.Stem, conv1.call(input));
        var stage1 = block1.call(stem);

        var (stage2, preActivation1) = block2.RunExposingInput(stage1);
        features.AddStage(1, preActivation1, stage1);
        var (stage3, preActivation2) = block3.RunExposingInput(stage2);
        features.AddStage(2, preActivation2, stage2);
        var preActivation3 = bn1.call(stage3);
        features.AddStage(3, preActivation3, stage3);

        var embedding = features.Add(FeatureNames.Embedding, nn.functional.relu(preActivation3).mean([2, 3]));
        return features.Finish(fc.call(embedding));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var x = graph.Conv(input, conv1);
        x = graph.Feature(FeatureNames.Stage(1), graph.Module(block1, x));
        x = graph.Feature(FeatureNames.Stage(2), graph.Module(block2, x));
        x = graph.Feature(FeatureNames.Stage(3), graph.Module(block3, x));
        return graph.Linear(graph.GlobalAveragePool(graph.Relu(graph.BatchNorm(x, bn1))), fc);
    }

    /// <summary>The BN after each group (the reference's <c>get_bn_before_relu</c>), whose output is <c>stageN_preact</c>.</summary>
    public override (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage)
    {
        var norm = stage switch { 1 => block2.InputNorm, 2 => block3.InputNorm, 3 => bn1, _ => null };
        return norm is null ? null : (norm.weight!, norm.bias!);
    }

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        foreach (var (depth, widenFactor) in new[] { (16, 1), (40, 1), (16, 2), (28, 2), (40, 2) })
        {
            string name = $"wrn_{depth}_{widenFactor}";
            string widths = string.Join('/', new[] { 16, 32, 64 }.Select(w => w * widenFactor));
            yield return new(name, Family,
                $"Wide ResNet-{depth}-{widenFactor}: pre-activation, 3 stages {widths}, {(depth - 4) / 6} blocks per stage", Stages,
                numClasses => new WideResNet(name, numClasses, depth, widenFactor));
        }
    }
}
