using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Wide ResNet WRN-d-k for CIFAR (RepDistiller models/wrn.py, dropout 0): 3x3 stem conv, three stages
/// <c>block1..3</c> of (d − 4) / 6 pre-activation blocks at widths 16k/32k/64k and strides 1/2/2, final
/// <c>bn1</c> + ReLU, global average pooling (the reference's fixed 8x8 pool, the same on 32-pixel inputs) and <c>fc</c>.
/// <para>
/// Features. <c>stem</c> is the stem conv output (nothing follows it before the first block's BN). A pre-activation
/// stage ends in a bare residual sum, so its natural pre-activation is that sum after the BN that follows it: the
/// next stage's first <c>bn1</c>, or the final <c>bn1</c> for stage 3 (the reference's preact features and
/// BN-before-ReLU list). <c>stageN</c> is the ReLU of it: for stages 1 and 2 the activation the next stage convolves,
/// for stage 3 the final <c>bn1</c> + ReLU. Each is computed once, inside the next stage, so stages 2 and 3 run
/// their blocks directly rather than through the stage module's <c>call</c>.
/// </para>
/// </summary>
internal sealed class WideResNet : ClassifierNet
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
        var sum = block1.call(stem);

        (sum, var preActivation, var activation) = block2.RunExposingInput(sum);
        features.AddStage(1, preActivation, activation);
        (sum, preActivation, activation) = block3.RunExposingInput(sum);
        features.AddStage(2, preActivation, activation);
        var x = features.AddStage(3, bn1.call(sum));

        var embedding = features.Add(FeatureNames.Embedding, x.mean([2, 3]));
        return features.Finish(fc.call(embedding));
    }

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        foreach (int depth in new[] { 16, 28, 40 })
        {
            string name = $"wrn_{depth}_2";
            yield return new(name, Family,
                $"Wide ResNet-{depth}-2: pre-activation, 3 stages 32/64/128, {(depth - 4) / 6} blocks per stage", Stages,
                numClasses => new WideResNet(name, numClasses, depth, widenFactor: 2));
        }
    }
}
