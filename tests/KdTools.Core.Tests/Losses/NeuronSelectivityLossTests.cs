using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class NeuronSelectivityLossTests
{
    [Fact]
    public void Hand_computed_two_channels()
    {
        using var scope = NewDisposeScope();
        // One sample, 1×2 maps. Student channels [1, 0], [0, 1]; teacher channels [1, 0], [1, 0] (already unit).
        // k(x, y) = (x·y)²: K_tt = all 1 → mean 1; K_ss = I → mean 1/2; K_st: s_0·t_j = 1, s_1·t_j = 0 → mean 1/2.
        // loss = 1 + 1/2 − 2·1/2 = 1/2.
        var student = tensor(new[] { 1.0, 0.0, 0.0, 1.0 }, [1, 2, 1, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 1.0, 0.0, 1.0, 0.0 }, [1, 2, 1, 2], ScalarType.Float64);
        GoldenAssert.Close(0.5, NeuronSelectivityLoss.Compute(student, teacher).ToDouble(), "NST");
    }

    [Fact]
    public void Zero_for_identical_maps_and_invariant_to_channel_scaling()
    {
        using var scope = NewDisposeScope();
        var features = randn(2, 3, 4, 4, ScalarType.Float64);
        GoldenAssert.Close(0.0, NeuronSelectivityLoss.Compute(features, features).ToDouble(), "identical", atol: 1e-12);
        var teacher = randn(2, 5, 4, 4, ScalarType.Float64);
        var channelScales = tensor(new[] { 0.5, 4.0, 9.0 }, [1, 3, 1, 1], ScalarType.Float64);
        GoldenAssert.Close(NeuronSelectivityLoss.Compute(features, teacher).ToDouble(),
            NeuronSelectivityLoss.Compute(features * channelScales, teacher).ToDouble(), "scaled channels", atol: 1e-12, rtol: 1e-10);
    }

    [Fact]
    public void Pools_the_larger_map_and_gives_finite_gradients()
    {
        using var scope = NewDisposeScope();
        var student = randn(2, 3, 8, 8, ScalarType.Float64).requires_grad_(true);
        var teacher = randn(2, 4, 4, 4, ScalarType.Float64);
        var losses = NeuronSelectivityLoss.ComputeLayers([student], [teacher]);
        // Pooling the student first must give the same value as letting the loss pool it.
        var pooled = nn.functional.adaptive_avg_pool2d(student.detach(), [4L, 4L]);
        GoldenAssert.Close(NeuronSelectivityLoss.Compute(pooled, teacher).ToDouble(), losses[0].ToDouble(), "pooled");
        losses[0].backward();
        Assert.True(isfinite(student.grad!).all().ToBoolean());
    }

    [Fact]
    public void Batch_mismatch_fails()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => NeuronSelectivityLoss.Compute(zeros(2, 3, 4, 4), zeros(1, 3, 4, 4)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }
}
