using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Models;

/// <summary>
/// ChannelShuffle gives exactly the reference's reshape-transpose-reshape (a permutation of channels, so bit for bit) in
/// both memory layouts, keeps a channels-last input channels-last, and its fused concatenate-and-shuffle equals the
/// shuffle of the concatenation, values and gradients.
/// </summary>
public class ChannelShuffleTests
{
    /// <summary>RepDistiller's ShuffleBlock: view, permute, reshape.</summary>
    private static Tensor Reference(Tensor x, long groups)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        return x.reshape(n, groups, c / groups, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w);
    }

    private static Tensor Laid(Tensor x, bool channelsLast) => channelsLast ? ChannelsLast.Apply(x) : x.contiguous();

    [Theory]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    public void Shuffle_equals_the_reference_and_keeps_the_layout(long groups, bool channelsLast)
    {
        using var scope = NewDisposeScope();
        var x = Laid(randn([4, 6 * groups, 5, 7], generator: new Generator(11)), channelsLast);
        Assert.Equal(channelsLast, ChannelsLast.Is(x));

        var shuffled = ChannelShuffle.Apply(x, groups);

        Assert.True(shuffled.equal(Reference(x, groups)).all().item<bool>());
        Assert.Equal(channelsLast, ChannelsLast.Is(shuffled));
        if (!channelsLast) Assert.True(shuffled.is_contiguous());
        // Output channel k·g + j is input channel j·c + k.
        long c = x.shape[1] / groups;
        Assert.True(shuffled.select(1, 2 * groups + 1).equal(x.select(1, 1 * c + 2)).all().item<bool>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Concatenate_shuffled_equals_the_shuffled_concatenation_with_its_gradients(bool channelsLast)
    {
        using var scope = NewDisposeScope();
        // As in a ShuffleNetV2 unit: the first half of the input passed through, the second a branch's output.
        var input = Laid(randn([3, 16, 4, 4], generator: new Generator(3)), channelsLast);
        var passed = input.narrow(1, 0, 8).detach().requires_grad_();
        var branch = Laid(randn([3, 8, 4, 4], generator: new Generator(4)), channelsLast).requires_grad_();
        var weights = randn([3, 16, 4, 4], generator: new Generator(5));

        var fused = ChannelShuffle.ConcatenateShuffled(passed, branch);
        var reference = Reference(cat([passed, branch], 1), 2);

        Assert.True(fused.equal(reference).all().item<bool>());
        Assert.Equal(channelsLast, ChannelsLast.Is(fused));
        var fusedGradients = autograd.grad([(fused * weights).sum()], [passed, branch]);
        var referenceGradients = autograd.grad([(reference * weights).sum()], [passed, branch]);
        for (int i = 0; i < 2; i++) Assert.True(fusedGradients[i].equal(referenceGradients[i]).all().item<bool>());
    }

    [Theory]
    [InlineData("ShuffleV1")]
    [InlineData("ShuffleV2")]
    public void A_shufflenet_gives_the_same_outputs_on_channels_last_and_nchw_inputs(string architecture)
    {
        torch.manual_seed(7);
        using var network = ArchitectureRegistry.Create(architecture, 10);
        network.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([2, 3, 32, 32], generator: new Generator(9));

        var nchw = network.Run(x.contiguous());
        var channelsLast = network.Run(ChannelsLast.Apply(x));

        Assert.True(channelsLast.Logits.allclose(nchw.Logits, rtol: 1e-4, atol: 1e-5), $"{architecture} logits");
        foreach (var (name, feature) in nchw.Features)
            Assert.True(channelsLast.Feature(name).allclose(feature, rtol: 1e-4, atol: 1e-4), $"{architecture} {name}");
    }
}
