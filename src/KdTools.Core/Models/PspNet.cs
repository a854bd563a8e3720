using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// PSPNet (Zhao et al., 2017) as in the official SKD code: the pyramid pooling module <c>pspmodule</c> (bins 1, 2, 3 and
/// 6, each average-pooled, reduced by a 1x1 conv to a quarter of the backbone's channels, BN, ReLU, upsampled and
/// concatenated with the backbone output; then <c>bottleneck</c>: 3x3 conv to a quarter, BN, ReLU, Dropout2d(0.1)) and
/// the 1x1 classifier <c>head</c>. The final map is the pyramid module's output. The reference's InPlace-ABN (BN with a
/// leaky ReLU) is a BN and a ReLU here, and it has an auxiliary DSN head on layer3 (loss weight 0.4), left out.
/// </summary>
internal sealed class PspNet : SegmentationNet
{
    private const double DropoutProbability = 0.1;

    private readonly PyramidPooling pspmodule;
    private readonly Conv2d head;

    public PspNet(string name, int numClasses, SegmentationBackbone backbone) : base(name, numClasses, backbone)
    {
        long reduced = backbone.OutputChannels / 4;
        pspmodule = new PyramidPooling(backbone.OutputChannels, reduced);
        head = nn.Conv2d(reduced, numClasses, 1);
        RegisterComponents();
    }

    private protected override (Tensor Logits, Tensor FinalMap) Decode(Tensor deepest, Generator? dropoutRandom)
    {
        var finalMap = SeededDropout.Apply(pspmodule.call(deepest), DropoutProbability, wholeChannels: true, training, dropoutRandom);
        return (head.call(finalMap), finalMap);
    }

    private protected override OnnxValue ExportDecode(OnnxGraph graph, OnnxValue deepest) =>
        graph.Conv(graph.Module(pspmodule, deepest), head);
}

/// <summary>The pyramid pooling module without its dropout (which needs the step's generator; see <see cref="PspNet"/>).</summary>
internal sealed class PyramidPooling : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private static readonly long[] Bins = [1, 2, 3, 6];

    private readonly ModuleList<Sequential> stages;
    private readonly Sequential bottleneck;

    public PyramidPooling(long channels, long reduced) : base(nameof(PyramidPooling))
    {
        // Index 0 of each stage is the pooling, so the conv and BN keys are stages.N.1 and stages.N.2, as in the reference.
        stages = nn.ModuleList(Bins.Select(bin => nn.Sequential(
            nn.AdaptiveAvgPool2d(bin), nn.Conv2d(channels, reduced, 1, bias: false), nn.BatchNorm2d(reduced), nn.ReLU())).ToArray());
        bottleneck = nn.Sequential(
            nn.Conv2d(channels + Bins.Length * reduced, reduced, 3, padding: 1, bias: false), nn.BatchNorm2d(reduced), nn.ReLU());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        long height = input.shape[2], width = input.shape[3];
        // The reference upsamples the pooled maps with align_corners = true.
        var priors = stages.Select(stage => nn.functional.interpolate(stage.call(input), [height, width],
            mode: InterpolationMode.Bilinear, align_corners: true)).Append(input).ToList();
        return bottleneck.call(cat(priors, 1));
    }

    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var priors = stages.Select(stage => graph.Resize(graph.Module(stage, input), input.Height, input.Width, alignCorners: true))
            .Append(input).ToList();
        return graph.Module(bottleneck, graph.Concat(priors));
    }
}
