using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Models;

/// <summary>One forward pass per architecture: logits, every named feature's shape, and how the features relate.</summary>
public class ArchitectureForwardTests
{
    private const int Batch = 2;

    // Stem width, then each stage's width and side at a 32-pixel input.
    [Theory]
    [InlineData("resnet8", 16, new long[] { 16, 32, 64 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet14", 16, new long[] { 16, 32, 64 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet20", 16, new long[] { 16, 32, 64 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet32", 16, new long[] { 16, 32, 64 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet44", 16, new long[] { 16, 32, 64 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet56", 16, new long[] { 16, 32, 64 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet110", 16, new long[] { 16, 32, 64 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet8x4", 32, new long[] { 64, 128, 256 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet32x4", 32, new long[] { 64, 128, 256 }, new long[] { 32, 16, 8 })]
    [InlineData("resnet18", 64, new long[] { 64, 128, 256, 512 }, new long[] { 32, 16, 8, 4 })]
    [InlineData("resnet34", 64, new long[] { 64, 128, 256, 512 }, new long[] { 32, 16, 8, 4 })]
    [InlineData("resnet50", 64, new long[] { 256, 512, 1024, 2048 }, new long[] { 32, 16, 8, 4 })]
    [InlineData("vgg8", 64, new long[] { 128, 256, 512, 512 }, new long[] { 16, 8, 4, 4 })]
    [InlineData("vgg11", 64, new long[] { 128, 256, 512, 512 }, new long[] { 16, 8, 4, 4 })]
    [InlineData("vgg13", 64, new long[] { 128, 256, 512, 512 }, new long[] { 16, 8, 4, 4 })]
    [InlineData("wrn_16_2", 16, new long[] { 32, 64, 128 }, new long[] { 32, 16, 8 })]
    [InlineData("wrn_28_2", 16, new long[] { 32, 64, 128 }, new long[] { 32, 16, 8 })]
    [InlineData("wrn_40_2", 16, new long[] { 32, 64, 128 }, new long[] { 32, 16, 8 })]
    public void Logits_and_every_feature_have_the_documented_shapes(string name, long stemWidth, long[] stageWidths, long[] stageSides)
    {
        using var model = ArchitectureRegistry.Create(name, 100);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.Run(randn(Batch, 3, 32, 32));

        Assert.Equal(stageWidths.Length, model.StageCount);
        Assert.Equal(ArchitectureRegistry.Get(name).HeadPositions, model.StageCount);
        Assert.Equal(new long[] { Batch, 100 }, output.Logits.shape);
        Assert.Equal(new long[] { Batch, stemWidth, 32, 32 }, output.Feature(FeatureNames.Stem).shape);
        for (int i = 0; i < stageWidths.Length; i++)
        {
            long[] expected = [Batch, stageWidths[i], stageSides[i], stageSides[i]];
            Assert.Equal(expected, output.Feature(FeatureNames.Stage(i + 1)).shape);
            Assert.Equal(expected, output.Feature(FeatureNames.StagePreActivation(i + 1)).shape);
        }
        Assert.Equal(new long[] { Batch, stageWidths[^1] }, output.Feature(FeatureNames.Embedding).shape);
        Assert.Equal(2 * stageWidths.Length + 2, output.Features.Count);
    }

    [Theory]
    [InlineData("resnet8")]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    [InlineData("vgg8")]
    [InlineData("wrn_16_2")]
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

    [Theory]
    [InlineData("resnet8", "fc")]
    [InlineData("resnet18", "linear")]
    [InlineData("vgg8", "classifier")]
    [InlineData("wrn_16_2", "fc")]
    public void Embedding_is_the_pooled_last_stage_and_feeds_the_classifier(string name, string classifierKey)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(Batch, 3, 32, 32);

        var output = model.Run(input);

        var embedding = output.Feature(FeatureNames.Embedding);
        var lastStage = output.Feature(FeatureNames.Stage(model.StageCount));
        Assert.True(embedding.allclose(lastStage.mean([2, 3]), rtol: 1e-5, atol: 1e-6));
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

    [Fact]
    public void Run_leaves_only_its_outputs_in_the_callers_scope()
    {
        using var model = ArchitectureRegistry.Create("wrn_16_2", 10);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(Batch, 3, 32, 32);

        var output = model.Run(input);

        Assert.Equal(1 + 1 + output.Features.Count, scope.DisposablesCount);
    }
}
