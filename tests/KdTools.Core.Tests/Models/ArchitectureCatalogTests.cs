using KdTools.Core.Models;

namespace KdTools.Core.Tests.Models;

/// <summary>What the registry lists and what each architecture weighs, against the CIFAR distillation benchmark's numbers.</summary>
public class ArchitectureCatalogTests
{
    private static readonly string[] CanonicalNames =
    [
        "resnet8", "resnet14", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet8x4", "resnet32x4",
        "resnet18", "resnet34", "resnet50",
        "vgg8", "vgg11", "vgg13", "vgg16", "vgg19",
        "wrn_16_1", "wrn_40_1", "wrn_16_2", "wrn_28_2", "wrn_40_2",
        "MobileNetV2", "ShuffleV1", "ShuffleV2",
    ];

    private static readonly string[] VggAliases = ["vgg8_bn", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"];

    // Counts of RepDistiller's PyTorch models at 100 classes. resnet14/32/44 follow from the CIFAR ResNet layout
    // (widths 16/32/64, n BasicBlocks per stage), counted by hand:
    //   stem 3·16·9 + 2·16 = 464; stage 1: n·(2·16·16·9 + 4·16) = 4,672n;
    //   stage 2: 14,528 + 18,560(n−1) (first block 16→32 with 1x1 downsample + BN); stage 3: 57,728 + 73,984(n−1);
    //   fc 64·100 + 100 = 6,500;  total 97,216n − 13,324  (n = 1 → 83,892 and n = 9 → 861,620 as published).
    [Theory]
    [InlineData("resnet8", 83_892)]
    [InlineData("resnet14", 181_108)]
    [InlineData("resnet20", 278_324)]
    [InlineData("resnet32", 472_756)]
    [InlineData("resnet44", 667_188)]
    [InlineData("resnet56", 861_620)]
    [InlineData("resnet110", 1_736_564)]
    [InlineData("resnet8x4", 1_233_540)]
    [InlineData("resnet32x4", 7_433_860)]
    [InlineData("resnet18", 11_220_132)]
    [InlineData("resnet34", 21_328_292)]
    [InlineData("resnet50", 23_705_252)]
    [InlineData("vgg8", 3_965_028)]
    [InlineData("vgg11", 9_277_284)]
    [InlineData("vgg13", 9_462_180)]
    [InlineData("vgg8_bn", 3_965_028)]
    [InlineData("vgg11_bn", 9_277_284)]
    [InlineData("vgg13_bn", 9_462_180)]
    [InlineData("vgg16", 14_774_436)]
    [InlineData("vgg19", 20_086_692)]
    [InlineData("vgg16_bn", 14_774_436)]
    [InlineData("vgg19_bn", 20_086_692)]
    [InlineData("wrn_16_1", 180_916)]
    [InlineData("wrn_40_1", 569_780)]
    [InlineData("wrn_16_2", 703_284)]
    [InlineData("wrn_28_2", 1_479_220)]
    [InlineData("wrn_40_2", 2_255_156)]
    [InlineData("MobileNetV2", 812_836)]
    [InlineData("ShuffleV1", 949_258)]
    [InlineData("ShuffleV2", 1_355_528)]
    public void Parameter_count_at_100_classes_matches_the_reference(string name, long expected)
    {
        using var model = ArchitectureRegistry.Create(name, 100);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void Registry_lists_every_architecture_and_the_vgg_aliases()
    {
        var listed = ArchitectureRegistry.All.Select(a => a.Name).ToHashSet();
        Assert.Superset(CanonicalNames.Concat(VggAliases).ToHashSet(), listed);
        Assert.All(ArchitectureRegistry.All, a => Assert.False(string.IsNullOrWhiteSpace(a.Description)));
        Assert.All(ArchitectureRegistry.All, a => Assert.DoesNotContain('\n', a.Description));
    }

    [Theory]
    [InlineData("resnet8", "cifar-resnet", 3)]
    [InlineData("resnet110", "cifar-resnet", 3)]
    [InlineData("resnet32x4", "cifar-resnet", 3)]
    [InlineData("resnet18", "resnet", 4)]
    [InlineData("resnet50", "resnet", 4)]
    [InlineData("vgg11", "vgg", 4)]
    [InlineData("vgg11_bn", "vgg", 4)]
    [InlineData("wrn_28_2", "wrn", 3)]
    [InlineData("wrn_16_1", "wrn", 3)]
    [InlineData("vgg19", "vgg", 4)]
    [InlineData("MobileNetV2", "mobilenetv2", 4)]
    [InlineData("ShuffleV1", "shufflenetv1", 3)]
    [InlineData("ShuffleV2", "shufflenetv2", 3)]
    public void Family_and_head_positions_are_as_in_DIH(string name, string family, int headPositions)
    {
        var info = ArchitectureRegistry.Get(name);
        Assert.Equal(family, info.Family);
        Assert.Equal(headPositions, info.HeadPositions);
    }

    [Fact]
    public void Only_MobileNet_and_ShuffleNets_are_lightweight()
    {
        var lightweight = ArchitectureRegistry.All.Where(a => a.Lightweight).Select(a => a.Name).Order().ToArray();
        Assert.Equal(new[] { "MobileNetV2", "ShuffleV1", "ShuffleV2" }, lightweight);
    }

    [Theory]
    [InlineData("mobilenetv2", "MobileNetV2")]
    [InlineData("SHUFFLEV1", "ShuffleV1")]
    public void Reference_spellings_are_found_in_any_case(string typed, string canonical)
    {
        using var model = ArchitectureRegistry.Create(typed, 10);
        Assert.Equal(canonical, model.Architecture);
    }

    [Fact]
    public void Unknown_name_lists_every_known_architecture()
    {
        var ex = Assert.Throws<KdException>(() => ArchitectureRegistry.Get("resnt8"));
        Assert.Equal(KdErrorIds.ArchitectureUnknown, ex.ErrorId);
        var known = ex.Message[(ex.Message.IndexOf("known: ", StringComparison.Ordinal) + "known: ".Length)..].Split(", ");
        Assert.Superset(CanonicalNames.Concat(VggAliases).ToHashSet(), known.ToHashSet());
    }

    [Fact]
    public void A_vgg_alias_builds_the_same_network_under_the_canonical_name()
    {
        using var alias = ArchitectureRegistry.Create("VGG11_BN", 10);
        Assert.Equal("vgg11", alias.Architecture);
        using var canonical = ArchitectureRegistry.Create("vgg11", 10);
        Assert.Equal(canonical.state_dict().Keys, alias.state_dict().Keys);
    }
}
