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
    [InlineData(nameof(SvdLayout.Channels))]
    [InlineData(nameof(SvdLayout.Width))]
    public void The_sign_of_the_students_maps_does_not_matter(string layoutName)
    {
        var layout = Enum.Parse<SvdLayout>(layoutName);
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

    /// <summary>
    /// The real-data failure (issue 23): a rank-deficient stage (dead or repeated channels, as a grayscale image gives)
    /// has equal singular values, where the plain SVD gradient divides by s_i² − s_j² = 0. Its non-finite gradient
    /// poisoned the weights, and the next forward pass stopped in linalg.svd with a native "non-finite values"
    /// exception. The authors' gradient (sseung0703's SVP) zeroes those entries: the gradient stays finite, an SGD
    /// step on it keeps the features finite, and the next decomposition succeeds.
    /// </summary>
    [Theory]
    [InlineData(nameof(SvdLayout.Channels))]
    [InlineData(nameof(SvdLayout.Width))]
    public void A_rank_deficient_stage_gives_a_finite_gradient_and_the_next_step_decomposes(string layoutName)
    {
        var layout = Enum.Parse<SvdLayout>(layoutName);
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        // Stage 1: one channel repeated 8 times (rank 1: seven equal zero singular values); stage 2: all zeros but one.
        var first = nn.functional.relu(randn([4, 1, 4, 4], generator: generator)).repeat(1, 8, 1, 1).requires_grad_(true);
        var second = zeros(4, 8, 4, 4);
        second[.., 0] = nn.functional.relu(randn([4, 4, 4], generator: generator));
        second.requires_grad_(true);
        var teacher = new[] { nn.functional.relu(randn([4, 8, 4, 4], generator: generator)), nn.functional.relu(randn([4, 8, 4, 4], generator: generator)) };
        SvdDistillationLoss.Compute([first, second], teacher, layout: layout).backward();
        foreach (var stage in new[] { first, second })
        {
            Assert.True(stage.grad!.isfinite().all().ToBoolean(), "the gradient of a rank-deficient stage must be finite");
            using var noGrad = no_grad();
            stage.sub_(stage.grad * 0.1);
        }
        double next = SvdDistillationLoss.Compute([first, second], teacher, layout: layout).ToDouble();
        Assert.True(double.IsFinite(next));
    }

    /// <summary>
    /// Where the singular values are distinct the authors' gradient is the SVD's own: it matches a central finite
    /// difference of the loss in float64 (tall (H·W)×C matrices and wide ones, whose gradient has the extra
    /// (I − VVᵀ) term).
    /// </summary>
    [Theory]
    [InlineData(nameof(SvdLayout.Channels), 8, 4)]
    [InlineData(nameof(SvdLayout.Channels), 16, 2)]
    [InlineData(nameof(SvdLayout.Width), 8, 4)]
    public void Where_singular_values_are_distinct_the_gradient_matches_finite_differences(string layoutName, int channels, int size)
    {
        var layout = Enum.Parse<SvdLayout>(layoutName);
        using var scope = NewDisposeScope();
        var generator = new Generator(12);
        var student = new[] { randn([2, channels, size, size], ScalarType.Float64, generator: generator), randn([2, channels, size, size], ScalarType.Float64, generator: generator) };
        var teacher = new[] { randn([2, channels, size, size], ScalarType.Float64, generator: generator), randn([2, channels, size, size], ScalarType.Float64, generator: generator) };
        foreach (var s in student) s.requires_grad_(true);
        SvdDistillationLoss.Compute(student, teacher, layout: layout).backward();
        var analytic = student[0].grad!.flatten();
        var flat = student[0].detach().flatten();
        const double h = 1e-6;
        foreach (long i in new long[] { 0, 3, flat.shape[0] / 2, flat.shape[0] - 1 })
        {
            double Loss(double delta)
            {
                var moved = flat.clone();
                moved[i] = moved[i] + delta;
                return SvdDistillationLoss.Compute([moved.reshape(student[0].shape), student[1].detach()], teacher, layout: layout).ToDouble();
            }
            double numeric = (Loss(h) - Loss(-h)) / (2 * h);
            GoldenAssert.Close(numeric, analytic[i].ToDouble(), $"d loss / d x[{i}]", 1e-6, 1e-4);
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
