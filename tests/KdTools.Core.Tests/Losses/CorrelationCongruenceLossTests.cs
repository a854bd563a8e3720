using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class CorrelationCongruenceLossTests
{
    [Fact]
    public void Hand_computed_two_samples_with_the_paper_kernel()
    {
        using var scope = NewDisposeScope();
        // γ = 0.4, P = 2: k(x) = e^(−0.8)·(1 + 0.8x + 0.32x²) of the cosine x; k(1) = 2.12·e^(−0.8), k(0) = e^(−0.8).
        // Student (1,0), (0,1): cosines I → C_s = [[k(1), k(0)], [k(0), k(1)]]. Teacher (1,0), (1,0): C_t = all k(1).
        // The two off-diagonal entries differ by 1.12·e^(−0.8): mean of squares = 2·1.2544·e^(−1.6) / 4.
        var student = tensor(new[] { 1.0, 0.0, 0.0, 1.0 }, [2, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 1.0, 0.0, 1.0, 0.0 }, [2, 2], ScalarType.Float64);
        double expected = 0.6272 * Math.Exp(-1.6);
        GoldenAssert.Close(expected, CorrelationCongruenceLoss.Compute(student, teacher).ToDouble(), "CC", atol: 1e-12, rtol: 1e-10);
        // The embeddings are L2-normalised first, so scaling either side changes nothing.
        GoldenAssert.Close(expected, CorrelationCongruenceLoss.Compute(student * 3.0, teacher * 0.25).ToDouble(), "CC scaled", atol: 1e-12, rtol: 1e-10);
    }

    [Fact]
    public void Zero_for_identical_embeddings_with_finite_gradients()
    {
        using var scope = NewDisposeScope();
        var teacher = randn(5, 8, ScalarType.Float64);
        Assert.Equal(0.0, CorrelationCongruenceLoss.Compute(teacher, teacher).ToDouble());
        var student = randn(5, 3, ScalarType.Float64).requires_grad_(true);
        CorrelationCongruenceLoss.Compute(student, teacher).backward();
        Assert.True(isfinite(student.grad!).all().ToBoolean());
        Assert.True(student.grad!.abs().sum().ToDouble() > 0);
    }

    [Fact]
    public void Hand_computed_RepDistiller_variant()
    {
        using var scope = NewDisposeScope();
        // δ = |f_s − f_t| = [[1, 1], [2, 3], [1, 1]]; consecutive pairs: 1·2 + 1·3 = 5 and 2·1 + 3·1 = 5; mean 5.
        var student = tensor(new[] { 1.0, 2.0, 3.0, 4.0, 0.0, 0.0 }, [3, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 0.0, 1.0, 1.0, 1.0, 1.0, -1.0 }, [3, 2], ScalarType.Float64);
        GoldenAssert.Close(5.0, CorrelationCongruenceLoss.ComputeRepDistiller(student, teacher).ToDouble(), "CC RepDistiller");
    }

    /// <summary>
    /// RepDistiller trains its teacher embedding head through this loss (f_t = embed_t(feat_t) is not detached), so the
    /// teacher side gets the gradient too: dL/dδ_i = (δ_i−1 + δ_i+1)/(B − 1), dL/dt = −sign(s − t)·dL/dδ, dL/ds = −dL/dt.
    /// </summary>
    [Fact]
    public void RepDistiller_variant_passes_gradients_to_both_embeddings()
    {
        using var scope = NewDisposeScope();
        var student = tensor(new[] { 1.0, 2.0, 3.0, 4.0, 0.0, 0.0 }, [3, 2], ScalarType.Float64).requires_grad_(true);
        var teacher = tensor(new[] { 0.0, 1.0, 1.0, 1.0, 1.0, -1.0 }, [3, 2], ScalarType.Float64).requires_grad_(true);

        CorrelationCongruenceLoss.ComputeRepDistiller(student, teacher).backward();

        // δ = [[1, 1], [2, 3], [1, 1]], sign(s − t) = [[+, +], [+, +], [−, +]]; dL/dδ = [[1, 1.5], [1, 1], [1, 1.5]].
        var expected = tensor(new[] { -1.0, -1.5, -1.0, -1.0, 1.0, -1.5 }, [3, 2], ScalarType.Float64);
        Assert.True(teacher.grad!.allclose(expected, rtol: 0, atol: 1e-15), "teacher gradient");
        Assert.True(student.grad!.allclose(-expected, rtol: 0, atol: 1e-15), "student gradient");
    }

    [Fact]
    public void Mismatches_and_bad_options_fail()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(KdErrorIds.LossShapeMismatch,
            Assert.Throws<KdException>(() => CorrelationCongruenceLoss.Compute(zeros(2, 3), zeros(4, 3))).ErrorId);
        Assert.Equal(KdErrorIds.LossShapeMismatch,
            Assert.Throws<KdException>(() => CorrelationCongruenceLoss.ComputeRepDistiller(zeros(2, 3), zeros(2, 4))).ErrorId);
        Assert.Equal(KdErrorIds.MethodOptionInvalid,
            Assert.Throws<KdException>(() => CorrelationCongruenceLoss.Compute(ones(2, 3), ones(2, 3), gamma: 0)).ErrorId);
    }
}
