using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Models;

/// <summary>One forward pass per architecture: logits, every named feature's shape, and how the features relate.</summary>
public class ArchitectureForwardTests
{
    private const int Batch = 2;

    /// <summary>
    /// Per architecture at a 32-pixel input: stem width and side, each stage's width and side, embedding width (the
    /// reference's penultimate feature: the pooled last stage, or a wider 1x1 conv after it).
    /// </summary>
    private static readonly (string Name, long StemWidth, long StemSide, long[] StageWidths, long[] StageSides, long EmbeddingWidth)[] Shapes =
    [
        ("resnet8", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("resnet14", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("resnet20", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("resnet32", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("resnet44", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("resnet56", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("resnet110", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("resnet8x4", 32, 32, [64, 128, 256], [32, 16, 8], 256),
        ("resnet32x4", 32, 32, [64, 128, 256], [32, 16, 8], 256),
        ("resnet18", 64, 32, [64, 128, 256, 512], [32, 16, 8, 4], 512),
        ("resnet34", 64, 32, [64, 128, 256, 512], [32, 16, 8, 4], 512),
        ("resnet50", 64, 32, [256, 512, 1024, 2048], [32, 16, 8, 4], 2048),
        ("vgg8", 64, 32, [128, 256, 512, 512], [16, 8, 4, 4], 512),
        ("vgg11", 64, 32, [128, 256, 512, 512], [16, 8, 4, 4], 512),
        ("vgg13", 64, 32, [128, 256, 512, 512], [16, 8, 4, 4], 512),
        ("vgg16", 64, 32, [128, 256, 512, 512], [16, 8, 4, 4], 512),
        ("vgg19", 64, 32, [128, 256, 512, 512], [16, 8, 4, 4], 512),
        ("wrn_16_1", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("wrn_40_1", 16, 32, [16, 32, 64], [32, 16, 8], 64),
        ("wrn_16_2", 16, 32, [32, 64, 128], [32, 16, 8], 128),
        ("wrn_28_2", 16, 32, [32, 64, 128], [32, 16, 8], 128),
        ("wrn_40_2", 16, 32, [32, 64, 128], [32, 16, 8], 128),
        ("MobileNetV2", 16, 16, [12, 16, 48, 160], [16, 8, 4, 2], 1280),
        ("ShuffleV1", 24, 32, [240, 480, 960], [16, 8, 4], 960),
        ("ShuffleV2", 24, 32, [116, 232, 464], [16, 8, 4], 1024),
    ];

    public static IEnumerable<object[]> ShapeCases() =>
        from shape in Shapes
        from training in new[] { false, true }
        select new object[] { shape.Name, training };

    [Fact]
    public void Every_registered_architecture_has_its_shapes_listed()
    {
        // vggN_bn is an alias of vggN; segmentation networks have their own shape tests.
        var registered = ArchitectureRegistry.All.Where(a => a.Task == PredictionTask.Classification).Select(a => a.Family == "vgg" && a.Name.EndsWith("_bn") ? a.Name[..^3] : a.Name);
        Assert.Equal(registered.Distinct().Order(), Shapes.Select(s => s.Name).Order());
    }

    [Theory]
    [MemberData(nameof(ShapeCases))]
    public void Logits_and_every_feature_have_the_documented_shapes(string name, bool training)
    {
        var (_, stemWidth, stemSide, stageWidths, stageSides, embeddingWidth) = Shapes.Single(s => s.Name == name);
        using var model = ArchitectureRegistry.Create(name, 100);
        model.train(training);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        Assert.Equal(stageWidths.Length, model.StageCount);
        Assert.Equal(ArchitectureRegistry.Get(name).HeadPositions, model.StageCount);
        Assert.Equal(new long[] { Batch, 100 }, output.Logits.shape);
        Assert.Equal(new long[] { Batch, stemWidth, stemSide, stemSide }, output.Feature(FeatureNames.Stem).shape);
        for (int i = 0; i < stageWidths.Length; i++)
        {
            long[] expected = [Batch, stageWidths[i], stageSides[i], stageSides[i]];
            Assert.Equal(expected, output.Feature(FeatureNames.Stage(i + 1)).shape);
            Assert.Equal(expected, output.Feature(FeatureNames.StagePreActivation(i + 1)).shape);
        }
        Assert.Equal(new long[] { Batch, embeddingWidth }, output.Feature(FeatureNames.Embedding).shape);
        Assert.Equal(2 * stageWidths.Length + 2, output.Features.Count);
        Assert.All(output.Features.Values.Append(output.Logits), t => Assert.True(t.isfinite().all().item<bool>()));
    }

    [Theory]
    [InlineData("resnet8")]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    [InlineData("vgg8")]
    [InlineData("vgg19")]
    [InlineData("ShuffleV1")]
    public void Each_stage_is_the_relu_of_its_pre_activation_which_has_negative_values(string name)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        for (int stage = 1; stage <= model.StageCount; stage++)
        {
            var preActivation = output.Feature(FeatureNames.StagePreActivation(stage));
            Assert.True(preActivation.min().item<float>() < 0, $"stage{stage}_preact has no negative value");
            Assert.True(output.Feature(FeatureNames.Stage(stage)).allclose(preActivation.relu(), rtol: 0, atol: 0), $"stage{stage} is not relu(stage{stage}_preact)");
        }
    }

    // RepDistiller's MobileNetV2 returns the same (linear) group outputs with and without preact.
    [Fact]
    public void MobileNetV2_stages_are_linear_and_equal_to_their_pre_activations()
    {
        using var model = ArchitectureRegistry.Create("MobileNetV2", 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        for (int stage = 1; stage <= model.StageCount; stage++)
        {
            var feature = output.Feature(FeatureNames.Stage(stage));
            Assert.True(feature.min().item<float>() < 0, $"stage{stage} has no negative value");
            Assert.True(feature.allclose(output.Feature(FeatureNames.StagePreActivation(stage)), rtol: 0, atol: 0), $"stage{stage} differs from stage{stage}_preact");
        }
    }

    // RepDistiller's ShuffleNetV2 returns the unit's output after the channel shuffle, its pre-activation before it.
    [Fact]
    public void ShuffleV2_stages_are_the_channel_shuffled_relu_of_their_pre_activations()
    {
        using var model = ArchitectureRegistry.Create("ShuffleV2", 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        for (int stage = 1; stage <= model.StageCount; stage++)
        {
            var preActivation = output.Feature(FeatureNames.StagePreActivation(stage));
            long c = preActivation.shape[1], h = preActivation.shape[2];
            // Output channel 2i is input channel i, 2i + 1 is c/2 + i.
            var shuffled = preActivation.relu().reshape(Batch, 2, c / 2, h, h).transpose(1, 2).reshape(Batch, c, h, h);
            Assert.True(preActivation.min().item<float>() < 0, $"stage{stage}_preact has no negative value");
            Assert.True(output.Feature(FeatureNames.Stage(stage)).allclose(shuffled, rtol: 0, atol: 0), $"stage{stage} is not the shuffled relu(stage{stage}_preact)");
            Assert.False(output.Feature(FeatureNames.Stage(stage)).allclose(preActivation.relu(), rtol: 0, atol: 0), $"stage{stage} is not shuffled");
        }
    }

    // RepDistiller's WRN: feat[1..3] are the raw block-group outputs; with preact=True they pass through the BN that
    // follows (block2.layer[0].bn1, block3.layer[0].bn1, bn1); the embedding pools relu(bn1(group 3)).
    [Theory]
    [InlineData("wrn_16_1")]
    [InlineData("wrn_16_2")]
    [InlineData("wrn_40_2")]
    public void Wrn_stages_are_the_raw_group_outputs_and_their_pre_activations_the_following_batch_norm(string name)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        string[] norms = ["block2.layer.0.bn1", "block3.layer.0.bn1", "bn1"];
        var state = model.state_dict();
        using (no_grad())
            foreach (var norm in norms)
            {
                // Statistics and affine parameters away from the identity, so the BN is visible in the features.
                state[$"{norm}.running_mean"].copy_(randn_like(state[$"{norm}.running_mean"]) * 0.3);
                state[$"{norm}.running_var"].copy_(rand_like(state[$"{norm}.running_var"]) + 0.5);
                state[$"{norm}.weight"].copy_(rand_like(state[$"{norm}.weight"]) + 0.5);
                state[$"{norm}.bias"].copy_(randn_like(state[$"{norm}.bias"]) * 0.3);
            }
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        for (int stage = 1; stage <= 3; stage++)
        {
            var feature = output.Feature(FeatureNames.Stage(stage));
            Assert.True(feature.min().item<float>() < 0, $"stage{stage} has no negative value: it is not the raw group output");
            string norm = norms[stage - 1];
            var expected = nn.functional.batch_norm(feature, state[$"{norm}.running_mean"], state[$"{norm}.running_var"],
                state[$"{norm}.weight"], state[$"{norm}.bias"], training: false);
            Assert.True(output.Feature(FeatureNames.StagePreActivation(stage)).allclose(expected, rtol: 1e-5, atol: 1e-5), $"stage{stage}_preact is not {norm}(stage{stage})");
        }
        var pooled = output.Feature(FeatureNames.StagePreActivation(3)).relu().mean([2, 3]);
        Assert.True(output.Feature(FeatureNames.Embedding).allclose(pooled, rtol: 1e-5, atol: 1e-6));
    }

    // The BN whose output (before any residual sum) is each stage's pre-activation: RepDistiller's and mdistiller's
    // get_bn_before_relu for WRN and MobileNetV2; for ShuffleV1 (which they do not list) its last block's bn3.
    [Theory]
    [InlineData("wrn_16_1", new[] { "block2.layer.0.bn1", "block3.layer.0.bn1", "bn1" })]
    [InlineData("wrn_40_2", new[] { "block2.layer.0.bn1", "block3.layer.0.bn1", "bn1" })]
    [InlineData("MobileNetV2", new[] { "blocks.1.1.conv.7", "blocks.2.2.conv.7", "blocks.4.2.conv.7", "blocks.6.0.conv.7" })]
    [InlineData("ShuffleV1", new[] { "layer1.3.bn3", "layer2.7.bn3", "layer3.3.bn3" })]
    public void Pre_activation_norm_is_the_batch_norm_before_each_stages_relu(string name, string[] norms)
    {
        using var model = ArchitectureRegistry.Create(name, 10, seed: 1);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var state = model.state_dict();
        // Every BN's affine distinct (and near the identity, so activations stay small), so only the right BN can match.
        foreach (var norm in state.Keys.Where(k => k.EndsWith(".running_mean")).Select(k => k[..^".running_mean".Length]))
        {
            state[$"{norm}.weight"].copy_(rand_like(state[$"{norm}.weight"]) + 0.5);
            state[$"{norm}.bias"].copy_(randn_like(state[$"{norm}.bias"]) * 0.1);
        }
        var input = randn(Batch, 3, 32, 32);

        Assert.Equal(norms.Length, model.StageCount);
        for (int stage = 1; stage <= model.StageCount; stage++)
        {
            var (weight, bias) = model.PreActivationNorm(stage) ?? throw new Xunit.Sdk.XunitException($"stage {stage} has no norm");
            Assert.True(weight.allclose(state[$"{norms[stage - 1]}.weight"], rtol: 0, atol: 0), $"stage {stage}: weight is not {norms[stage - 1]}'s");
            Assert.True(bias.allclose(state[$"{norms[stage - 1]}.bias"], rtol: 0, atol: 0), $"stage {stage}: bias is not {norms[stage - 1]}'s");

            // In eval mode the pre-activation is that BN's output (plus a shortcut the BN does not see): shifting one
            // channel's bias by δ shifts exactly that channel of stageN_preact by δ.
            var before = model.Run(input).Feature(FeatureNames.StagePreActivation(stage)).clone();
            bias[1].add_(0.5);
            var shift = model.Run(input).Feature(FeatureNames.StagePreActivation(stage)) - before;
            bias[1].sub_(0.5);
            Assert.True((shift.select(1, 1) - 0.5).abs().max().item<float>() < 1e-5, $"stage {stage}: channel 1 did not shift by 0.5");
            Assert.True(shift.select(1, 0).abs().max().item<float>() < 1e-6, $"stage {stage}: channel 0 moved");
        }
        Assert.Null(model.PreActivationNorm(model.StageCount + 1));
    }

    // Half of each pre-activation is the unit's input passed through, which no BN produces.
    [Fact]
    public void ShuffleV2_has_no_pre_activation_norm()
    {
        using var model = ArchitectureRegistry.Create("ShuffleV2", 10);
        Assert.All(Enumerable.Range(1, model.StageCount), stage => Assert.Null(model.PreActivationNorm(stage)));
    }

    [Theory]
    [InlineData("resnet8")]
    [InlineData("resnet18")]
    [InlineData("vgg8")]
    [InlineData("ShuffleV1")]
    public void Embedding_is_the_pooled_last_stage(string name)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        var lastStage = output.Feature(FeatureNames.Stage(model.StageCount));
        Assert.True(output.Feature(FeatureNames.Embedding).allclose(lastStage.mean([2, 3]), rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData("resnet8", "fc")]
    [InlineData("resnet18", "linear")]
    [InlineData("vgg8", "classifier")]
    [InlineData("wrn_16_2", "fc")]
    [InlineData("MobileNetV2", "classifier.0")]
    [InlineData("ShuffleV1", "linear")]
    [InlineData("ShuffleV2", "linear")]
    public void Embedding_feeds_the_classifier(string name, string classifierKey)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(Batch, 3, 32, 32);

        var output = model.Run(input);

        var embedding = output.Feature(FeatureNames.Embedding);
        var weights = model.state_dict();
        var expectedLogits = embedding.matmul(weights[$"{classifierKey}.weight"].t()) + weights[$"{classifierKey}.bias"];
        Assert.True(output.Logits.allclose(expectedLogits, rtol: 1e-5, atol: 1e-5));
        Assert.True(model.forward(input).allclose(output.Logits, rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData("resnet8", 78_042)]      // 83,892 − 90·(64 + 1)
    [InlineData("resnet18", 11_173_962)] // 11,220,132 − 90·(512 + 1)
    [InlineData("vgg8", 3_918_858)]      // 3,965,028 − 90·(512 + 1)
    [InlineData("wrn_16_2", 691_674)]    // 703,284 − 90·(128 + 1)
    [InlineData("wrn_16_1", 175_066)]    // 180,916 − 90·(64 + 1)
    [InlineData("MobileNetV2", 697_546)] // 812,836 − 90·(1280 + 1)
    [InlineData("ShuffleV1", 862_768)]   // 949,258 − 90·(960 + 1)
    [InlineData("ShuffleV2", 1_263_278)] // 1,355,528 − 90·(1024 + 1)
    public void Ten_classes_shrink_only_the_classifier(string name, long expectedParameters)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        Assert.Equal(10, model.NumClasses);
        Assert.Equal(new long[] { Batch, 10 }, output.Logits.shape);
        Assert.Equal(expectedParameters, model.ParameterCount());
    }

    [Theory]
    [InlineData("resnet8", new long[] { 64, 32, 16 })]
    [InlineData("vgg8", new long[] { 32, 16, 8, 4 })]
    [InlineData("wrn_16_2", new long[] { 64, 32, 16 })]
    [InlineData("MobileNetV2", new long[] { 32, 16, 8, 4 })]
    [InlineData("ShuffleV1", new long[] { 32, 16, 8 })]
    [InlineData("ShuffleV2", new long[] { 32, 16, 8 })]
    public void A_64_pixel_input_still_reaches_the_classifier(string name, long[] stageSides)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 64, 64));

        Assert.Equal(new long[] { Batch, 10 }, output.Logits.shape);
        for (int i = 0; i < stageSides.Length; i++)
            Assert.Equal(stageSides[i], output.Feature(FeatureNames.Stage(i + 1)).shape[2]);
    }

    [Theory]
    [InlineData("resnet8")]
    [InlineData("resnet50")]
    [InlineData("vgg8")]
    [InlineData("wrn_16_2")]
    [InlineData("wrn_16_1")]
    [InlineData("MobileNetV2")]
    [InlineData("ShuffleV1")]
    [InlineData("ShuffleV2")]
    public void Training_pass_sends_a_gradient_to_every_parameter(string name)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.train();
        using var scope = NewDisposeScope();

        var output = model.Run(randn(Batch, 3, 32, 32));
        var loss = output.Logits.square().sum();
        for (int stage = 1; stage <= model.StageCount; stage++)
            loss += output.Feature(FeatureNames.StagePreActivation(stage)).square().mean();
        loss.backward();

        var missing = model.named_parameters()
            .Where(p => p.parameter.grad is null || p.parameter.grad.abs().sum().item<float>() == 0)
            .Select(p => p.name).ToList();
        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("wrn_16_2")]
    [InlineData("MobileNetV2")]
    [InlineData("ShuffleV1")]
    [InlineData("ShuffleV2")]
    public void Run_leaves_only_its_outputs_in_the_callers_scope(string name)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(Batch, 3, 32, 32);

        var output = model.Run(input);

        Assert.Equal(1 + 1 + output.Features.Count, scope.DisposablesCount);
    }
}
