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

    // Complete key lists, written from the reference definitions (RepDistiller models/*.py); the totals are those of
    // the references' state_dict() at any class count.
    [Theory]
    [InlineData("MobileNetV2", 320)]
    [InlineData("ShuffleV1", 296)]
    [InlineData("ShuffleV2", 338)]
    [InlineData("wrn_16_1", 82)]
    [InlineData("wrn_40_1", 226)]
    [InlineData("wrn_16_2", 83)]
    [InlineData("wrn_40_2", 227)]
    [InlineData("vgg8", 37)]
    [InlineData("vgg13", 72)]
    [InlineData("vgg16", 93)]
    [InlineData("vgg19", 114)]
    public void Keys_are_exactly_the_references(string name, int referenceKeyCount)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        var expected = ReferenceKeys(name).ToList();

        Assert.Equal(referenceKeyCount, expected.Count);
        Assert.Equal(expected.Order(StringComparer.Ordinal), model.state_dict().Keys.Order(StringComparer.Ordinal));
    }

    private static IEnumerable<string> ReferenceKeys(string name) => name switch
    {
        "MobileNetV2" => MobileNetV2Keys(),
        "ShuffleV1" => ShuffleV1Keys(),
        "ShuffleV2" => ShuffleV2Keys(),
        "wrn_16_1" => WrnKeys(16, 1),
        "wrn_40_1" => WrnKeys(40, 1),
        "wrn_16_2" => WrnKeys(16, 2),
        "wrn_40_2" => WrnKeys(40, 2),
        "vgg8" => VggKeys([1, 1, 1, 1, 1]),
        "vgg13" => VggKeys([2, 2, 2, 2, 2]),
        "vgg16" => VggKeys([2, 2, 3, 3, 3]),
        "vgg19" => VggKeys([2, 2, 4, 4, 4]),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static IEnumerable<string> Weight(string module) => [$"{module}.weight"];
    private static IEnumerable<string> WeightAndBias(string module) => [$"{module}.weight", $"{module}.bias"];
    private static IEnumerable<string> BatchNorm(string module) =>
        new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }.Select(k => $"{module}.{k}");

    // conv_bn stem; blocks[g][b].conv = [pw conv, BN, ReLU, dw conv, BN, ReLU, pw-linear conv, BN] for the
    // reference's groups of 1/2/3/4/3/3/1 blocks; conv_1x1_bn; classifier = Sequential(Linear).
    private static IEnumerable<string> MobileNetV2Keys()
    {
        var keys = Weight("conv1.0").Concat(BatchNorm("conv1.1"));
        int[] blocksPerGroup = [1, 2, 3, 4, 3, 3, 1];
        for (int g = 0; g < blocksPerGroup.Length; g++)
            for (int b = 0; b < blocksPerGroup[g]; b++)
                foreach (int layer in new[] { 0, 3, 6 })
                    keys = keys.Concat(Weight($"blocks.{g}.{b}.conv.{layer}")).Concat(BatchNorm($"blocks.{g}.{b}.conv.{layer + 1}"));
        return keys.Concat(Weight("conv2.0")).Concat(BatchNorm("conv2.1")).Concat(WeightAndBias("classifier.0"));
    }

    // conv1/bn1 stem; layers of 4/8/4 Bottlenecks with conv1..3 and bn1..3 (shuffle and shortcut have no state); linear.
    private static IEnumerable<string> ShuffleV1Keys()
    {
        var keys = Weight("conv1").Concat(BatchNorm("bn1"));
        int[] blocksPerLayer = [4, 8, 4];
        for (int l = 0; l < 3; l++)
            for (int b = 0; b < blocksPerLayer[l]; b++)
                for (int i = 1; i <= 3; i++)
                    keys = keys.Concat(Weight($"layer{l + 1}.{b}.conv{i}")).Concat(BatchNorm($"layer{l + 1}.{b}.bn{i}"));
        return keys.Concat(WeightAndBias("linear"));
    }

    // conv1/bn1 stem; each layer a DownBlock (conv1..5, bn1..5) then 3/7/3 BasicBlocks (conv1..3, bn1..3); conv2/bn2; linear.
    private static IEnumerable<string> ShuffleV2Keys()
    {
        var keys = Weight("conv1").Concat(BatchNorm("bn1"));
        int[] basicBlocksPerLayer = [3, 7, 3];
        for (int l = 0; l < 3; l++)
        {
            for (int i = 1; i <= 5; i++)
                keys = keys.Concat(Weight($"layer{l + 1}.0.conv{i}")).Concat(BatchNorm($"layer{l + 1}.0.bn{i}"));
            for (int b = 1; b <= basicBlocksPerLayer[l]; b++)
                for (int i = 1; i <= 3; i++)
                    keys = keys.Concat(Weight($"layer{l + 1}.{b}.conv{i}")).Concat(BatchNorm($"layer{l + 1}.{b}.bn{i}"));
        }
        return keys.Concat(Weight("conv2")).Concat(BatchNorm("bn2")).Concat(WeightAndBias("linear"));
    }

    // conv1; block1..3.layer[b] with bn1, conv1, bn2, conv2 and, where the width changes (the first block of a group,
    // except group 1 at widen factor 1, which stays at 16), convShortcut; bn1; fc.
    private static IEnumerable<string> WrnKeys(int depth, int widenFactor)
    {
        var keys = Weight("conv1");
        int[] widths = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor];
        for (int group = 1; group <= 3; group++)
            for (int b = 0; b < (depth - 4) / 6; b++)
            {
                string block = $"block{group}.layer.{b}";
                keys = keys.Concat(BatchNorm($"{block}.bn1")).Concat(Weight($"{block}.conv1"))
                    .Concat(BatchNorm($"{block}.bn2")).Concat(Weight($"{block}.conv2"));
                if (b == 0 && widths[group - 1] != widths[group]) keys = keys.Concat(Weight($"{block}.convShortcut"));
            }
        return keys.Concat(BatchNorm("bn1")).Concat(WeightAndBias("fc"));
    }

    // block0..4 = [conv, BN, ReLU] per conv without the last ReLU, so conv j sits at 3j and its BN at 3j + 1; classifier.
    private static IEnumerable<string> VggKeys(int[] convsPerBlock)
    {
        var keys = Enumerable.Empty<string>();
        for (int block = 0; block < convsPerBlock.Length; block++)
            for (int j = 0; j < convsPerBlock[block]; j++)
                keys = keys.Concat(WeightAndBias($"block{block}.{3 * j}")).Concat(BatchNorm($"block{block}.{3 * j + 1}"));
        return keys.Concat(WeightAndBias("classifier"));
    }
}
