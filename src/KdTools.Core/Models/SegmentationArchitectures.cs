namespace KdTools.Core.Models;

/// <summary>
/// The segmentation architectures: PSPNet on dilated ResNet-18/34/50/101 (the paper's student is
/// <c>pspnet_resnet18</c>, its teacher <c>pspnet_resnet101</c>), DeepLabV3 on ResNet-50/101, and narrow variants for
/// the CPU (<c>_w16</c>: a quarter of the channels, <c>_w8</c>: an eighth). <c>pspnet_resnet18_deepstem</c> and
/// <c>pspnet_resnet101_deepstem</c> are the official SKD code's PSPNet student and teacher exactly
/// (<see cref="DeepStemResNet"/>); the others use torchvision's ResNet layout, so ImageNet weights load into them.
/// </summary>
[Registered]
internal static class SegmentationArchitectures
{
    private const string PspFamily = "pspnet", DeepLabFamily = "deeplabv3";
    private const int FullWidth = 64;

    private static readonly Dictionary<int, (bool Bottleneck, int[] Blocks)> Depths = new()
    {
        [18] = (false, [2, 2, 2, 2]), [34] = (false, [3, 4, 6, 3]), [50] = (true, [3, 4, 6, 3]), [101] = (true, [3, 4, 23, 3]),
    };

    internal static IEnumerable<ArchitectureInfo> Architectures()
    {
        foreach (int depth in new[] { 18, 34, 50, 101 })
        {
            yield return Psp(depth, FullWidth);
            yield return Psp(depth, 16);
        }
        yield return Psp(18, 8);
        foreach (int depth in new[] { 18, 101 })
        {
            yield return PspDeepStem(depth, FullWidth);
            yield return PspDeepStem(depth, 16);
        }
        yield return DeepLab(50, FullWidth);
        yield return DeepLab(101, FullWidth);
        yield return DeepLab(50, 16);
    }

    private static ArchitectureInfo Psp(int depth, int width)
    {
        var name = Name(PspFamily, depth, width);
        return Info(name, PspFamily, $"PSPNet (pyramid pooling 1/2/3/6) on a dilated ResNet-{depth}{WidthText(width)}, output stride 8",
            classes => new PspNet(name, classes, Backbone(depth, width)));
    }

    /// <summary>The official SKD code's PSPNet: its ResNet (deep stem, ceil-mode pool, every layer3/4 block dilated).</summary>
    private static ArchitectureInfo PspDeepStem(int depth, int width)
    {
        var name = $"{PspFamily}_resnet{depth}_deepstem" + (width == FullWidth ? "" : $"_w{width}");
        return Info(name, PspFamily, $"PSPNet on the official SKD code's dilated ResNet-{depth}{WidthText(width, "the reference")}: deep stem (3x3 convs {width}/{width}/{2 * width}), ceil-mode max-pool, every layer3/layer4 block dilated 2/4, output stride 8",
            classes => new PspNet(name, classes, new DeepStemResNet(Depths[depth].Bottleneck, Depths[depth].Blocks, width)));
    }

    private static ArchitectureInfo DeepLab(int depth, int width)
    {
        var name = Name(DeepLabFamily, depth, width);
        return Info(name, DeepLabFamily, $"DeepLabV3 (ASPP rates 12/24/36) on a dilated ResNet-{depth}{WidthText(width)}, output stride 8",
            classes => new DeepLabV3(name, classes, Backbone(depth, width), channels: 256 * width / FullWidth));
    }

    private static ArchitectureInfo Info(string name, string family, string description, Func<int, ClassifierNet> create) =>
        new(name, family, description, SegmentationBackbone.Stages, create) { Task = PredictionTask.Segmentation };

    private static DilatedResNet Backbone(int depth, int width) => new(Depths[depth].Bottleneck, Depths[depth].Blocks, width);

    private static string Name(string family, int depth, int width) =>
        $"{family}_resnet{depth}" + (width == FullWidth ? "" : $"_w{width}");

    private static string WidthText(int width, string reference = "torchvision") => width == FullWidth ? "" : $" at width {width} ({reference}: 64)";
}
