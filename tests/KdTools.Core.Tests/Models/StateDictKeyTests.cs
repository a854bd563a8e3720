using KdTools.Core.Models;

namespace KdTools.Core.Tests.Models;

/// <summary>State-dict keys equal the PyTorch references' keys, so weights map one-to-one.</summary>
public class StateDictKeyTests
{
    // Key totals counted by hand: a conv gives 1 key (2 with bias), a BatchNorm 5 (weight, bias, running_mean,
    // running_var, num_batches_tracked), a Linear 2.
    [Theory]
    // stem 6 + 3 blocks·12 + 2 downsamples·6 + fc 2
    [InlineData("resnet8", 56,
        new[] { "conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn2.running_var",
                "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "layer3.0.conv2.weight", "fc.weight", "fc.bias" },
        new[] { "layer1.0.downsample.0.weight", "layer2.0.shortcut.0.weight", "linear.weight" })]
    // stem 6 + 3 blocks·12 + 3 downsamples·6 + fc 2: stage 1 widens 32 → 64, so it has a downsample too
    [InlineData("resnet8x4", 62,
        new[] { "layer1.0.downsample.0.weight", "layer1.0.downsample.1.weight", "layer3.0.downsample.0.weight", "fc.weight" },
        new[] { "layer1.1.conv1.weight" })]
    // stem 6 + 8 blocks·12 + 3 shortcuts·6 + linear 2
    [InlineData("resnet18", 122,
        new[] { "conv1.weight", "bn1.weight", "layer1.1.bn2.bias", "layer2.0.shortcut.0.weight", "layer2.0.shortcut.1.running_mean",
                "layer4.1.conv2.weight", "linear.weight", "linear.bias" },
        new[] { "layer1.0.shortcut.0.weight", "layer2.0.downsample.0.weight", "fc.weight", "layer4.2.conv1.weight" })]
    // stem 6 + 16 blocks·18 + 4 shortcuts·6 + linear 2
    [InlineData("resnet50", 320,
        new[] { "layer1.0.conv3.weight", "layer1.0.bn3.running_var", "layer1.0.shortcut.0.weight", "layer3.5.conv1.weight",
                "layer4.2.bn3.bias", "linear.weight" },
        new[] { "layer1.1.shortcut.0.weight" })]
    // 5 blocks·(conv 2 + BN 5) + classifier 2
    [InlineData("vgg8", 37,
        new[] { "block0.0.weight", "block0.0.bias", "block0.1.running_mean", "block4.1.num_batches_tracked",
                "classifier.weight", "classifier.bias" },
        new[] { "block0.3.weight", "fc.weight" })]
    // 10 convs·2 + 10 BNs·5 + classifier 2; block0 is conv, BN, ReLU, conv, BN
    [InlineData("vgg13", 72,
        new[] { "block0.3.weight", "block0.3.bias", "block0.4.running_var", "block3.4.weight", "classifier.weight" },
        new[] { "block0.2.weight", "block0.5.weight" })]
    // conv1 1 + 6 blocks·12 + 3 shortcuts + bn1 5 + fc 2
    [InlineData("wrn_16_2", 83,
        new[] { "conv1.weight", "block1.layer.0.bn1.weight", "block1.layer.0.convShortcut.weight", "block2.layer.0.conv1.weight",
                "block3.layer.1.bn2.running_mean", "bn1.running_var", "fc.weight", "fc.bias" },
        new[] { "block1.layer.1.convShortcut.weight", "block1.layer.0.convShortcut.bias", "bn2.weight" })]
    public void Keys_follow_the_reference_attribute_names(string name, int keyCount, string[] present, string[] absent)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        var keys = model.state_dict().Keys.ToHashSet();

        Assert.Equal(keyCount, keys.Count);
        Assert.Superset(present.ToHashSet(), keys);
        Assert.All(absent, key => Assert.DoesNotContain(key, keys));
    }
}
