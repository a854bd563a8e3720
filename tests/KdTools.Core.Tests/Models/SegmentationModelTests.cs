using System.Text.Json;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static KdTools.Testing.TestNetworks;

namespace KdTools.Core.Tests.Models;

/// <summary>
/// The segmentation architectures against the PyTorch definitions of Reference/segmentation_models.py (torchvision's
/// ResNet layout with output stride 8, the SKD code's PSP head, torchvision's DeepLabV3 head): parameter counts, state-dict
/// keys and shapes, ImageNet key compatibility, and the logits of identically filled networks.
/// </summary>
public class SegmentationModelTests
{
    private static readonly Lazy<JsonElement> Reference = new(() => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Models", "Reference", "segmentation_models.json"))).RootElement);

    public static TheoryData<string> Names() => new(Reference.Value.GetProperty("architectures").EnumerateObject().Select(p => p.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void Parameter_count_at_21_classes_matches_the_pytorch_definition(string name)
    {
        using var model = ArchitectureRegistry.Create(name, 21);

        Assert.Equal(Reference.Value.GetProperty("architectures").GetProperty(name).GetProperty("parameters").GetInt64(), model.ParameterCount());
        Assert.Equal(PredictionTask.Segmentation, model.Task);
        Assert.Equal(PredictionTask.Segmentation, ArchitectureRegistry.Get(name).Task);
    }

    [Theory]
    [InlineData("pspnet_resnet18")]
    [InlineData("pspnet_resnet50")]
    [InlineData("deeplabv3_resnet50")]
    [InlineData("pspnet_resnet18_w8")]
    [InlineData("pspnet_resnet18_deepstem")]
    [InlineData("pspnet_resnet101_deepstem_w16")]
    public void State_dict_keys_and_shapes_are_the_pytorch_ones(string name)
    {
        var expected = Reference.Value.GetProperty("architectures").GetProperty(name).GetProperty("state").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(d => d.GetInt64()).ToArray());
        using var model = ArchitectureRegistry.Create(name, 21);

        var actual = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, kv => Assert.Equal(kv.Value, actual[kv.Key]));
    }

    [Theory]
    [InlineData("resnet18", "pspnet_resnet18")]
    [InlineData("resnet50", "deeplabv3_resnet50")]
    public void An_imagenet_resnet_without_fc_maps_onto_the_backbone_one_to_one(string imagenet, string name)
    {
        var keys = Reference.Value.GetProperty("imagenet_keys").GetProperty(imagenet).EnumerateObject()
            .Where(p => !p.Name.StartsWith("fc.", StringComparison.Ordinal))
            .ToDictionary(p => "backbone." + p.Name, p => p.Value.EnumerateArray().Select(d => d.GetInt64()).ToArray());
        using var model = ArchitectureRegistry.Create(name, 21);
        var backbone = model.state_dict().Where(kv => kv.Key.StartsWith("backbone.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.shape);

        Assert.Equal(keys.Keys.Order(StringComparer.Ordinal), backbone.Keys.Order(StringComparer.Ordinal));
        Assert.All(keys, kv => Assert.Equal(kv.Value, backbone[kv.Key]));
    }

    [Theory]
    [InlineData("pspnet_resnet18_w8")]
    [InlineData("deeplabv3_resnet50_w16")]
    [InlineData("pspnet_resnet18_deepstem_w16")]
    public void Identically_filled_networks_give_the_pytorch_logits(string name)
    {
        var parity = Reference.Value.GetProperty("parity").GetProperty(name);
        var inputShape = parity.GetProperty("input").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var expected = parity.GetProperty("logits").EnumerateArray().Select(d => d.GetSingle()).ToArray();
        using var model = ArchitectureRegistry.Create(name, parity.GetProperty("classes").GetInt32());
        FillDeterministically(model);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var logits = model.Run(ParityInput(inputShape)).Logits;

        Assert.Equal(parity.GetProperty("logits_shape").EnumerateArray().Select(d => d.GetInt64()), logits.shape);
        var actual = logits.flatten().data<float>().ToArray();
        float scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4f * scale, $"logit {i}: {actual[i]} vs PyTorch {expected[i]}");
    }

    [Theory]
    // Input side, then stem, stage1..4 and final-map widths; stages 2..4 and the logits are at 1/8.
    [InlineData("pspnet_resnet18_w8", 64, new long[] { 8, 8, 16, 32, 64 }, 16)]
    [InlineData("pspnet_resnet50_w16", 64, new long[] { 16, 64, 128, 256, 512 }, 128)]
    [InlineData("deeplabv3_resnet50_w16", 65, new long[] { 16, 64, 128, 256, 512 }, 64)]
    public void Logits_come_at_one_eighth_with_the_named_features(string name, int side, long[] widths, long finalWidth)
    {
        using var model = ArchitectureRegistry.Create(name, 7);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        Assert.Equal(3, model.InputChannels);
        var output = model.Run(randn(2, 3, side, side));

        long stem = (side + 1) / 2, quarter = (stem + 1) / 2, eighth = (quarter + 1) / 2;
        Assert.Equal(new long[] { 2, 7, eighth, eighth }, output.Logits.shape);
        Assert.Equal(new long[] { 2, widths[0], stem, stem }, output.Feature(FeatureNames.Stem).shape);
        Assert.Equal(new long[] { 2, widths[1], quarter, quarter }, output.Feature(FeatureNames.Stage(1)).shape);
        for (int stage = 2; stage <= 4; stage++)
        {
            Assert.Equal(new long[] { 2, widths[stage], eighth, eighth }, output.Feature(FeatureNames.Stage(stage)).shape);
            Assert.Equal(new long[] { 2, widths[stage], eighth, eighth }, output.Feature(FeatureNames.StagePreActivation(stage)).shape);
        }
        Assert.Equal(new long[] { 2, finalWidth, eighth, eighth }, output.Feature(FeatureNames.FinalMap).shape);
        Assert.DoesNotContain(FeatureNames.Embedding, output.Features.Keys);
        Assert.Equal(new long[] { 2, 7, side, side }, SegmentationNet.ResizeLogits(output.Logits, side, side).shape);
    }

    [Fact]
    public void The_reference_feature_sizes_follow_from_the_input()
    {
        var sides = Reference.Value.GetProperty("output_sides_64_65_72").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        using var model = ArchitectureRegistry.Create("pspnet_resnet18_w8", 3);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        Assert.Equal(sides, new[] { 64, 65, 72 }.Select(s => model.Run(zeros(1, 3, s, s)).Logits.shape[3]));
    }

    [Theory]
    // Input side, then the stem's and stage1..4's widths at width 16: the stem ends 2·16 wide, layer1 projects it to 16.
    [InlineData("pspnet_resnet18_deepstem_w16", 64, new long[] { 32, 16, 32, 64, 128 }, 32)]
    [InlineData("pspnet_resnet101_deepstem_w16", 72, new long[] { 32, 64, 128, 256, 512 }, 128)]
    public void The_deep_stem_network_pools_with_ceil_mode_and_names_the_same_features(string name, int side, long[] widths, long finalWidth)
    {
        using var model = ArchitectureRegistry.Create(name, 7);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(2, 3, side, side));

        // 3x3 stride-2 stem conv: ⌈side/2⌉; ceil-mode 3x3 stride-2 pool: ⌊stem/2⌋ + 1; layer2: ⌈quarter/2⌉.
        long stem = (side + 1) / 2, quarter = stem / 2 + 1, eighth = (quarter + 1) / 2;
        Assert.Equal(new long[] { 2, 7, eighth, eighth }, output.Logits.shape);
        Assert.Equal(new long[] { 2, widths[0], stem, stem }, output.Feature(FeatureNames.Stem).shape);
        Assert.Equal(new long[] { 2, widths[1], quarter, quarter }, output.Feature(FeatureNames.Stage(1)).shape);
        for (int stage = 2; stage <= 4; stage++)
            Assert.Equal(new long[] { 2, widths[stage], eighth, eighth }, output.Feature(FeatureNames.StagePreActivation(stage)).shape);
        Assert.Equal(new long[] { 2, finalWidth, eighth, eighth }, output.Feature(FeatureNames.FinalMap).shape);
        Assert.Equal(PredictionTask.Segmentation, ArchitectureRegistry.Get(name).Task);
        Assert.Equal("pspnet", ArchitectureRegistry.Get(name).Family);
    }

    [Fact]
    public void The_official_resnet18_pspnet_weighs_the_torchvision_one_plus_its_deep_stem_and_layer1_projection()
    {
        // Counted by hand from networks/pspnet_combine.py at 21 classes: the deep stem 3·64·9 + 64·64·9 + 64·128·9 convs
        // and 2·(64 + 64 + 128) BN = 112,832 against torchvision's 3·64·49 + 128 = 9,536 (+103,296); layer1's first
        // block takes 128 channels (conv1 +64·64·9 = +36,864) through a 1x1 projection 128·64 + 2·64 = 8,320; layer3's
        // first block has a projection in both (stride 2 there, dilation here). 12,622,293 + 148,480 = 12,770,773.
        using var official = ArchitectureRegistry.Create("pspnet_resnet18_deepstem", 21);
        using var torchvision = ArchitectureRegistry.Create("pspnet_resnet18", 21);

        Assert.Equal(12_622_293, torchvision.ParameterCount());
        Assert.Equal(12_770_773, official.ParameterCount());
    }

    [Fact]
    public void The_deep_stem_feature_sizes_are_the_references_up_to_its_512_pixel_crop()
    {
        var sides = Reference.Value.GetProperty("deep_stem_output_sides_64_65_72_512").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        using var model = ArchitectureRegistry.Create("pspnet_resnet18_deepstem_w16", 3);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        Assert.Equal(new long[] { 9, 9, 10, 65 }, sides);
        Assert.Equal(sides, new[] { 64, 65, 72, 512 }.Select(s => model.Run(zeros(1, 3, s, s)).Logits.shape[3]));
    }

    [Theory]
    [InlineData("pspnet_resnet18_w8")]
    [InlineData("deeplabv3_resnet50_w16")]
    public void Head_dropout_draws_from_the_step_generator_in_training_only(string name)
    {
        var model = (SegmentationNet)ArchitectureRegistry.Create(name, 4);
        using var _ = model;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(2, 3, 32, 32);

        model.train();
        var first = model.Run(input, new Generator(5)).Logits;
        var again = model.Run(input, new Generator(5)).Logits;
        var other = model.Run(input, new Generator(6)).Logits;
        var withoutDropout = model.Run(input).Logits;
        model.eval();
        var evaluated = model.Run(input, new Generator(5)).Logits;

        Assert.True(first.equal(again).all().item<bool>());
        Assert.False(first.allclose(other));
        Assert.False(first.allclose(withoutDropout));
        Assert.True(evaluated.equal(model.Run(input).Logits).all().item<bool>());
    }
}
