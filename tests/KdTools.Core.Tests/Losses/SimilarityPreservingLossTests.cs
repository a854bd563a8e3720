using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class SimilarityPreservingLossTests
{
    [Fact]
    public void Hand_computed_two_samples()
    {
        using var scope = NewDisposeScope();
        // Student rows (1,0), (0,1): G_s = I, rows already unit → I.
        // Teacher rows (1,0), (1,0): G_t = all ones, each row normalised → all 1/√2.
        // Σ(G_t − G_s)² = 2·(1/√2 − 1)² + 2·(1/√2)² = 4 − 2√2; / B² = 1 − √2/2.
        var student = tensor(new[] { 1.0, 0.0, 0.0, 1.0 }, [2, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 1.0, 0.0, 1.0, 0.0 }, [2, 2], ScalarType.Float64);
        GoldenAssert.Close(1 - Math.Sqrt(2) / 2, SimilarityPreservingLoss.Compute(student, teacher).ToDouble(), "SP");
    }

    [Fact]
    public void Zero_for_identical_features()
    {
        using var scope = NewDisposeScope();
        var features = randn(4, 3, 2, 2, ScalarType.Float64);
        Assert.Equal(0.0, SimilarityPreservingLoss.Compute(features, features).ToDouble());
    }

    [Fact]
    public void Invariant_to_scaling_the_student_features()
    {
        using var scope = NewDisposeScope();
        var student = randn(4, 3, 2, 2, ScalarType.Float64);
        var teacher = randn(4, 5, 1, 1, ScalarType.Float64);
        double loss = SimilarityPreservingLoss.Compute(student, teacher).ToDouble();
        Assert.True(loss > 0);
        GoldenAssert.Close(loss, SimilarityPreservingLoss.Compute(student * 7.5, teacher).ToDouble(), "scaled by 7.5", atol: 1e-12, rtol: 1e-10);
    }

    [Fact]
    public void An_all_zero_student_sample_keeps_gradients_finite()
    {
        using var scope = NewDisposeScope();
        var student = randn(3, 4, ScalarType.Float64);
        student[1] = zeros(4, ScalarType.Float64);
        student.requires_grad_(true);
        var losses = SimilarityPreservingLoss.ComputeLayers([student], [randn(3, 6, ScalarType.Float64)]);
        stack(losses).sum().backward();
        Assert.True(isfinite(student.grad!).all().ToBoolean());
    }

    [Fact]
    public void Batch_or_layer_count_mismatch_fails()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(KdErrorIds.LossShapeMismatch,
            Assert.Throws<KdException>(() => SimilarityPreservingLoss.Compute(zeros(2, 3), zeros(3, 3))).ErrorId);
        Assert.Equal(KdErrorIds.LossShapeMismatch,
            Assert.Throws<KdException>(() => SimilarityPreservingLoss.ComputeLayers([zeros(2, 3)], [zeros(2, 3), zeros(2, 3)])).ErrorId);
    }
}
