using KdTools.Core.Models;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Models;

/// <summary>Initial weights are drawn as in the PyTorch references.</summary>
public class InitializationTests
{
    // Convolutions: normal(0, sqrt(2 / (k·k·out))). Each tensor sampled here has ≥ 36,864 values, so the sample
    // standard deviation sits within about 0.5 % of the true one; 5 % cannot fail by chance.
    [Theory]
    [InlineData("resnet8", "layer3.0.conv2.weight", 64 * 9)]
    [InlineData("resnet18", "layer4.1.conv1.weight", 512 * 9)]
    [InlineData("vgg8", "block4.0.weight", 512 * 9)]
    [InlineData("wrn_16_2", "block3.layer.1.conv2.weight", 128 * 9)]
    [InlineData("MobileNetV2", "conv2.0.weight", 1280)]
    // Depthwise: the references still divide by k·k·out (4,320 values: 5 % is over 4.5 standard errors).
    [InlineData("MobileNetV2", "blocks.5.1.conv.3.weight", 480 * 9)]
    public void Convolutions_are_he_normal_over_fan_out(string name, string key, int fanOut)
    {
        using var model = ArchitectureRegistry.Create(name, 10);
        using var scope = NewDisposeScope();
        var weight = model.state_dict()[key];

        double expected = Math.Sqrt(2.0 / fanOut);
        Assert.InRange(weight.std().item<float>(), 0.95 * expected, 1.05 * expected);
        Assert.InRange(weight.mean().item<float>(), -0.05 * expected, 0.05 * expected);
    }

    [Fact]
    public void Vgg_classifier_is_normal_with_std_0_01_and_biases_start_at_zero()
    {
        using var model = ArchitectureRegistry.Create("vgg8", 100);
        using var scope = NewDisposeScope();
        var state = model.state_dict();

        Assert.InRange(state["classifier.weight"].std().item<float>(), 0.0095, 0.0105);
        Assert.Equal(0, state["classifier.bias"].abs().max().item<float>());
        Assert.Equal(0, state["block2.0.bias"].abs().max().item<float>());
    }

    [Fact]
    public void Wrn_classifier_bias_starts_at_zero_and_batch_norms_at_identity()
    {
        using var model = ArchitectureRegistry.Create("wrn_16_2", 10);
        using var scope = NewDisposeScope();
        var state = model.state_dict();

        Assert.Equal(0, state["fc.bias"].abs().max().item<float>());
        Assert.True(state["fc.weight"].abs().max().item<float>() > 0);
        Assert.True(state["block2.layer.0.bn1.weight"].eq(1).all().item<bool>());
        Assert.Equal(0, state["block2.layer.0.bn1.bias"].abs().max().item<float>());
    }

    [Fact]
    public void MobileNetV2_classifier_is_normal_with_std_0_01_and_a_zero_bias()
    {
        using var model = ArchitectureRegistry.Create("MobileNetV2", 100);
        using var scope = NewDisposeScope();
        var state = model.state_dict();

        Assert.InRange(state["classifier.0.weight"].std().item<float>(), 0.0095, 0.0105);
        Assert.Equal(0, state["classifier.0.bias"].abs().max().item<float>());
    }

    // RepDistiller's ShuffleNets set no initialisation: PyTorch's defaults, U(±1/√fan_in) for conv and Linear weights
    // (kaiming_uniform with a = √5), whose standard deviation is that bound over √3.
    [Theory]
    [InlineData("ShuffleV1", "layer3.1.conv3.weight", 240 / 3)]
    [InlineData("ShuffleV1", "linear.weight", 960)]
    [InlineData("ShuffleV2", "conv2.weight", 464)]
    [InlineData("ShuffleV2", "layer2.3.conv1.weight", 116)]
    public void ShuffleNet_weights_are_pytorch_default_uniform(string name, string key, int fanIn)
    {
        using var model = ArchitectureRegistry.Create(name, 100);
        using var scope = NewDisposeScope();
        var weight = model.state_dict()[key];

        double bound = 1 / Math.Sqrt(fanIn);
        Assert.True(weight.abs().max().item<float>() <= bound);
        Assert.InRange(weight.std().item<float>(), 0.95 * bound / Math.Sqrt(3), 1.05 * bound / Math.Sqrt(3));
    }
}
