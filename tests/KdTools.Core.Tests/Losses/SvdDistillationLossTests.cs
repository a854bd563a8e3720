using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

/// <summary>KDSVD has no golden file: a hand-computed case and the properties the reference's alignment promises.</summary>
public class SvdDistillationLossTests
{
    /// <summary>
    /// A [1, 2, 1, 2] map whose (H·W)×C matrix is u·bᵀ with u = [1, 2]: rank one, right singular vector ±b.
    /// </summary>
    private static Tensor RankOne(double b0, double b1, ScalarType dtype = ScalarType.Float64) =>
        tensor(new[] { b0, 2 * b0, b1, 2 * b1 }, [1, 2, 1, 2], dtype);

    [Theory]
    [InlineData(ScalarType.Float64, 1e-6, 1e-5)]
    [InlineData(ScalarType.Float32, 1e-4, 1e-3)]
    public void Hand_computed_rank_one_stages(ScalarType dtype, double atol, double rtol)
    {
        using var scope = NewDisposeScope();
        // k = 1, the normalised leading singular value is 1. Teacher vectors (largest entry positive): stage 1 [1, 0],
        // stage 2 [0.6, 0.8]. Student stage 1 [1, 0] aligns to [1, 0]; student stage 2 offers [0, 1] (|cos| 0.8) and
        // [1, 0] (|cos| 0.6, singular value 0): the first wins, with the sign of its cosine, so [0, 1].
        // Kernels exp(−(v2[p] − v1[q])²/8): student differences [[−1, 0], [0, 1]]; teacher [[−0.4, 0.6], [−0.2, 0.8]].
        var student = new[] { RankOne(1, 0, dtype), RankOne(0, 1, dtype) };
        var teacher = new[] { RankOne(1, 0, dtype), RankOne(0.6, 0.8, dtype) };
        double[] s = [Math.Exp(-1 / 8.0), 1, 1, Math.Exp(-1 / 8.0)];
        double[] t = [Math.Exp(-0.16 / 8), Math.Exp(-0.36 / 8), Math.Exp(-0.04 / 8), Math.Exp(-0.64 / 8)];
        double expected = s.Zip(t, (a, b) => (a - b) * (a - b)).Sum();
        GoldenAssert.Close(expected, SvdDistillationLoss.Compute(student, teacher).ToDouble(), "kdsvd", atol, rtol);
    }

    [Fact]
    public void A_student_equal_to_its_teacher_has_zero_loss()
    {
        using var scope = NewDisposeScope();
        var features = Stages(seed: 1);
        Assert.True(SvdDistillationLoss.Compute(features, features).ToDouble() < 1e-20);
    }

    [Theory]
    [InlineData(SvdLayout.Channels)]
    [InlineData(SvdLayout.Width)]
    public void The_sign_of_the_students_maps_does_not_matter(SvdLayout layout)
    {
        using var scope = NewDisposeScope();
        // Negating a map negates its singular vectors; the alignment undoes any sign, so the loss is unchanged.
        var student = Stages(seed: 2);
        var teacher = Stages(seed: 3);
        double loss = SvdDistillationLoss.Compute(student, teacher, layout: layout).ToDouble();
        double negated = SvdDistillationLoss.Compute(student.Select(f => -f).ToArray(), teacher, layout: layout).ToDouble();
        GoldenAssert.Close(loss, negated, "loss of the negated student");
        Assert.True(loss > 0);
    }

    [Fact]
    public void The_sign_of_the_teachers_maps_does_not_matter()
    {
        using var scope = NewDisposeScope();
        var student = Stages(seed: 4);
        var teacher = Stages(seed: 5);
        double loss = SvdDistillationLoss.Compute(student, teacher).ToDouble();
        GoldenAssert.Close(loss, SvdDistillationLoss.Compute(student, teacher.Select(f => -f).ToArray()).ToDouble(), "negated teacher");
    }

    [Fact]
    public void Alignment_picks_the_closest_candidate_with_the_teachers_sign()
    {
        using var scope = NewDisposeScope();
        // Candidates [0, 1] and [1, 0] (columns); teacher [−0.6, −0.8]: the first (|cos| 0.8) negated.
        var candidates = tensor(new[] { 0.0, 1, 1, 0 }, [1, 2, 2], ScalarType.Float64);
        var target = tensor(new[] { -0.6, -0.8 }, [1, 2, 1], ScalarType.Float64);
        Assert.Equal(new[] { 0.0, -1 }, SvdDistillationLoss.Align(candidates, target).data<double>().ToArray());
    }

    [Fact]
    public void Gradients_reach_every_student_stage_and_are_finite()
    {
        using var scope = NewDisposeScope();
        var student = Stages(seed: 6).Select(f => f.requires_grad_(true)).ToArray();
        SvdDistillationLoss.Compute(student, Stages(seed: 7)).backward();
        foreach (var f in student)
        {
            Assert.True(f.grad!.isfinite().all().ToBoolean());
            Assert.True(f.grad.abs().sum().ToDouble() > 0);
        }
    }

    [Fact]
    public void Different_compared_dimensions_fail_with_the_loss_shape_id()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => SvdDistillationLoss.Compute(
            [randn(2, 4, 4, 4), randn(2, 8, 2, 2)], [randn(2, 4, 4, 4), randn(2, 6, 2, 2)]));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    /// <summary>Three stages of a CIFAR-like network, post-ReLU, 4 samples.</summary>
    private static Tensor[] Stages(int seed)
    {
        var generator = new Generator((ulong)seed);
        return new long[][] { [4, 4, 8, 8], [4, 8, 4, 4], [4, 16, 2, 2] }
            .Select(shape => nn.functional.relu(randn(shape, ScalarType.Float64, generator: generator))).ToArray();
    }
}
