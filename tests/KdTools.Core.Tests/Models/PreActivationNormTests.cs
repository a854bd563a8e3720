using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Models;

public class PreActivationNormTests
{
    [Theory]
    [InlineData("resnet8")]
    [InlineData("resnet8x4")]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    [InlineData("vgg8")]
    public void The_norm_of_each_stage_feeds_its_pre_activation_one_to_one(string name)
    {
        // In eval mode the pre-activation is that BN's output (plus a shortcut the BN does not see), so shifting one
        // channel's BN bias by δ shifts exactly that channel of stageN_preact by δ everywhere.
        using var model = ArchitectureRegistry.Create(name, 10, seed: 1);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(2, 3, 16, 16, generator: new Generator(3));
        for (int stage = 1; stage <= model.StageCount; stage++)
        {
            var before = model.Run(input).Feature(FeatureNames.StagePreActivation(stage)).clone();
            var (weight, bias) = model.PreActivationNorm(stage)!.Value;
            Assert.Equal(before.shape[1], weight.shape[0]);
            bias[1].add_(0.5);
            var after = model.Run(input).Feature(FeatureNames.StagePreActivation(stage));
            bias[1].sub_(0.5);
            var shift = after - before;
            Assert.True((shift.select(1, 1) - 0.5).abs().max().ToDouble() < 1e-5, $"{name} stage {stage}: channel 1 did not shift by 0.5");
            Assert.True(shift.select(1, 0).abs().max().ToDouble() < 1e-6, $"{name} stage {stage}: channel 0 moved");
        }
        Assert.Null(model.PreActivationNorm(model.StageCount + 1));
    }
}
