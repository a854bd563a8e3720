using KdTools.Core.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Base of the segmentation architectures: a dilated ResNet backbone (<c>backbone.*</c>: torchvision's segmentation
/// key layout, <see cref="DilatedResNet"/>, or the official SKD code's, <see cref="DeepStemResNet"/>) and a head that classifies every position of its output-stride-8 feature map. <see cref="Run(Tensor)"/>
/// gives logits [B, classes, H/8, W/8] — losses and metrics upsample them to the labels with <see cref="ResizeLogits"/>
/// — and the features <c>stem</c>, <c>stage1..4</c> (with pre-activations) and <see cref="FeatureNames.FinalMap"/>.
/// </summary>
/// <remarks>
/// A segmentation network is a <see cref="ClassifierNet"/>: a network with logits and named features, which is all the
/// registry, checkpoints, cloning, the engine and the distillation methods rely on; only the logits' shape and
/// <see cref="Task"/> differ, so a sibling base would duplicate that whole surface for no gain.
/// </remarks>
public abstract class SegmentationNet : ClassifierNet, IOnnxExportable
{
    /// <summary>Input pixels per logit along each side.</summary>
    public const int OutputStride = 8;

    // The state-dict prefix "backbone." follows torchvision's segmentation models.
    private protected readonly SegmentationBackbone backbone;

    private protected SegmentationNet(string name, int numClasses, SegmentationBackbone backbone)
        : base(name, numClasses, SegmentationBackbone.Stages) => this.backbone = backbone;

    public override PredictionTask Task => PredictionTask.Segmentation;

    /// <summary>The backbone's stem's input channels (the heads register their convolutions before the backbone's).</summary>
    public override int InputChannels => backbone.InputChannels;

    /// <summary>Logits and features without dropout (evaluation, or a step that supplies no generator).</summary>
    public override ModelOutput Run(Tensor input) => Run(input, dropoutRandom: null);

    /// <summary>
    /// Logits and features; in training mode the heads' dropout (PSPNet's Dropout2d(0.1), DeepLabV3's Dropout(0.5))
    /// draws its masks from <paramref name="dropoutRandom"/>, and is off when it is null.
    /// </summary>
    public ModelOutput Run(Tensor input, Generator? dropoutRandom)
    {
        using var scope = NewDisposeScope();
        var features = new FeatureCollector();
        var deepest = backbone.Run(input, features);
        var (logits, finalMap) = Decode(deepest, dropoutRandom);
        features.Add(FeatureNames.FinalMap, finalMap);
        return features.Finish(logits);
    }

    /// <summary>Logits resized to the input, as <see cref="ResizeLogits"/> resizes them for the loss and the metrics.</summary>
    OnnxValue IOnnxExportable.ExportOnnx(OnnxGraph graph, OnnxValue input)
    {
        var logits = ExportDecode(graph, graph.Module(backbone, input));
        return graph.Resize(logits, input.Height, input.Width, alignCorners: false);
    }

    /// <summary>The head's eval-mode logits (dropout off) from layer4's output, into an ONNX graph.</summary>
    private protected abstract OnnxValue ExportDecode(OnnxGraph graph, OnnxValue deepest);

    /// <summary>The head: logits and the feature map its 1x1 classifier reads, from layer4's output.</summary>
    private protected abstract (Tensor Logits, Tensor FinalMap) Decode(Tensor deepest, Generator? dropoutRandom);

    /// <summary>
    /// <paramref name="logits"/> [B, K, h, w] resized bilinearly to <paramref name="height"/>×<paramref name="width"/>
    /// (torchvision's convention, align_corners = false); what the task loss and the metrics compare with label maps.
    /// </summary>
    public static Tensor ResizeLogits(Tensor logits, long height, long width) =>
        logits.shape[2] == height && logits.shape[3] == width
            ? logits
            : nn.functional.interpolate(logits, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
}

/// <summary>
/// A segmentation network's backbone: a dilated ResNet at output stride 8 that records <c>stem</c> and
/// <c>stage1..4</c> (with their pre-activations) and returns layer4's output, in TorchSharp and in an ONNX graph.
/// </summary>
internal abstract class SegmentationBackbone(string name) : nn.Module(name), IOnnxExportable
{
    /// <summary>The stages every backbone records: ResNet's layer1..4.</summary>
    public const int Stages = 4;

    /// <summary>Channels of layer4's output.</summary>
    public abstract long OutputChannels { get; }

    /// <summary>Channels of the input images: what the stem's first convolution takes.</summary>
    public abstract int InputChannels { get; }

    /// <summary>Records <c>stem</c> and <c>stage1..4</c> (and their pre-activations) in <paramref name="features"/>; returns layer4's output.</summary>
    public abstract Tensor Run(Tensor input, FeatureCollector features);

    /// <summary>The backbone into an ONNX graph: layer4's output (stage features named as <see cref="Run"/> names them).</summary>
    public abstract OnnxValue ExportOnnx(OnnxGraph graph, OnnxValue input);
}
