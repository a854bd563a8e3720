namespace KdTools.Core.Models;

/// <summary>Registers every architecture shipped with KdTools. Each family registers itself here.</summary>
internal static class BuiltInArchitectures
{
    public static void RegisterAll()
    {
        var families = new[]
        {
            CifarResNet.Architectures(), ResNet.Architectures(), Vgg.Architectures(), WideResNet.Architectures(),
            MobileNetV2.Architectures(), ShuffleNetV1.Architectures(), ShuffleNetV2.Architectures(),
            SegmentationArchitectures.Architectures(),
        };
        foreach (var info in families.SelectMany(family => family))
            ArchitectureRegistry.Register(info);
    }
}
