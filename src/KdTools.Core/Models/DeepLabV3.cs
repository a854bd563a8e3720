using KdTools.Core.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// DeepLabV3 (Chen et al., 2017) as torchvision builds it: <c>classifier</c> = ASPP (a 1x1 branch, 3x3 branches at
/// rates 12, 24 and 36 for output stride 8, an image-pooling branch; concatenated and projected by a 1x1 conv, BN, ReLU,
/// Dropout(0.5)), then a 3x3 conv, BN, ReLU and the 1x1 classifier. 256 channels at width 64. The final map is the input
/// of the 1x1 classifier. Keys match torchvision's <c>deeplabv3_resnet50</c> without its auxiliary head.
/// </summary>
internal sealed class DeepLabV3 : SegmentationNet
{
    private readonly DeepLabHead classifier;

    public DeepLabV3(string name, int numClasses, SegmentationBackbone backbone, long channels) : base(name, numClasses, backbone)
    {
        classifier = new DeepLabHead(backbone.OutputChannels, channels, numClasses);
        RegisterComponents();
    }

    private protected override (Tensor Logits, Tensor FinalMap) Decode(Tensor deepest, Generator? dropoutRandom) =>
        classifier.Run(deepest, dropoutRandom);

    private protected override OnnxValue ExportDecode(OnnxGraph graph, OnnxValue deepest) => classifier.ExportOnnx(graph, deepest);
}

/// <summary>torchvision's DeepLabHead: children named 0..4 (ASPP, conv, BN, ReLU, classifier) so the keys are its own.</summary>
internal sealed class DeepLabHead : nn.Module
{
    // One tuple, not module fields: module fields would be registered a second time under their field names.
    private readonly (Aspp Aspp, Conv2d Conv, BatchNorm2d Norm, Conv2d Classifier) _layers;

    public DeepLabHead(long inChannels, long channels, long numClasses) : base(nameof(DeepLabHead))
    {
        _layers = (new Aspp(inChannels, channels), nn.Conv2d(channels, channels, 3, padding: 1, bias: false),
            nn.BatchNorm2d(channels), nn.Conv2d(channels, numClasses, 1));
        register_module("0", _layers.Aspp);
        register_module("1", _layers.Conv);
        register_module("2", _layers.Norm);
        register_module("3", nn.ReLU());
        register_module("4", _layers.Classifier);
    }

    public (Tensor Logits, Tensor FinalMap) Run(Tensor input, Generator? dropoutRandom)
    {
        var finalMap = nn.functional.relu(_layers.Norm.call(_layers.Conv.call(_layers.Aspp.Run(input, dropoutRandom))));
        return (_layers.Classifier.call(finalMap), finalMap);
    }

    public OnnxValue ExportOnnx(OnnxGraph graph, OnnxValue input) =>
        graph.Conv(graph.Relu(graph.Conv(_layers.Aspp.ExportOnnx(graph, input), _layers.Conv, _layers.Norm)), _layers.Classifier);
}

/// <summary>Atrous spatial pyramid pooling with torchvision's keys (<c>convs.0..4</c>, <c>project</c>).</summary>
internal sealed class Aspp : nn.Module
{
    private static readonly long[] Rates = [12, 24, 36];
    private const double DropoutProbability = 0.5;

    private readonly ModuleList<Sequential> convs;
    private readonly Sequential project;

    public Aspp(long inChannels, long channels) : base(nameof(Aspp))
    {
        var branches = new List<Sequential> { nn.Sequential(nn.Conv2d(inChannels, channels, 1, bias: false), nn.BatchNorm2d(channels), nn.ReLU()) };
        branches.AddRange(Rates.Select(rate => nn.Sequential(
            nn.Conv2d(inChannels, channels, 3, padding: rate, dilation: rate, bias: false), nn.BatchNorm2d(channels), nn.ReLU())));
        // Image pooling: global average, 1x1 conv, BN, ReLU, broadcast back (BN over 1x1 maps needs batches of 2+ in training).
        branches.Add(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(inChannels, channels, 1, bias: false), nn.BatchNorm2d(channels), nn.ReLU()));
        convs = nn.ModuleList(branches.ToArray());
        project = nn.Sequential(nn.Conv2d(5 * channels, channels, 1, bias: false), nn.BatchNorm2d(channels), nn.ReLU());
        RegisterComponents();
    }

    public Tensor Run(Tensor input, Generator? dropoutRandom)
    {
        long height = input.shape[2], width = input.shape[3];
        var outputs = convs.Select(branch => branch.call(input)).ToList();
        outputs[^1] = nn.functional.interpolate(outputs[^1], [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        return SeededDropout.Apply(project.call(cat(outputs, 1)), DropoutProbability, wholeChannels: false, training, dropoutRandom);
    }

    public OnnxValue ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var outputs = convs.Select(branch => graph.Module(branch, input)).ToList();
        outputs[^1] = graph.Resize(outputs[^1], input.Height, input.Width, alignCorners: false);
        return graph.Module(project, graph.Concat(outputs));
    }
}
