using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class ContrastiveLossTests
{
    [Fact]
    public void Hand_computed_nce_loss()
    {
        using var scope = NewDisposeScope();
        // N = 4, K = 1 → K·P_n = 1/4. Row 0: P_pos = 3/4, P_neg = 1/4; row 1: P_pos = 1/4, P_neg = 1/2.
        // Row loss = −ln(P_pos/(P_pos + 1/4 + eps)) − ln((1/4)/(P_neg + 1/4 + eps)); the loss is the mean of the rows.
        const double eps = ContrastiveLoss.Eps;
        double row0 = -Math.Log(0.75 / (1.0 + eps)) - Math.Log(0.25 / (0.5 + eps));
        double row1 = -Math.Log(0.25 / (0.5 + eps)) - Math.Log(0.25 / (0.75 + eps));
        var scores = tensor(new[] { 0.75, 0.25, 0.25, 0.5 }, [2, 2], ScalarType.Float64);
        GoldenAssert.Close((row0 + row1) / 2, ContrastiveLoss.NceLoss(scores, 4).ToDouble(), "NCE", atol: 1e-12, rtol: 1e-10);
    }

    [Fact]
    public void Nce_loss_is_positive_and_rewards_the_positive_over_the_negatives()
    {
        using var scope = NewDisposeScope();
        var scores = (rand(3, 5, ScalarType.Float64) * 1e-3).requires_grad_(true);
        var loss = ContrastiveLoss.NceLoss(scores, 1000);
        Assert.True(loss.ToDouble() > 0);
        loss.backward();
        Assert.True(scores.grad![.., 0].lt(0).all().ToBoolean(), "raising a positive score must lower the loss");
        Assert.True(scores.grad![.., 1..].gt(0).all().ToBoolean(), "raising a negative score must raise the loss");
    }

    [Fact]
    public void Hand_computed_scores_and_normaliser()
    {
        using var scope = NewDisposeScope();
        // v = (1, 0); rows (1, 0) positive and (0, 1) negative; τ = 0.5 → exp([1/0.5, 0/0.5]) = [e², 1].
        // Z = mean([e², 1])·N with N = 10.
        var embedding = tensor(new[] { 1.0, 0.0 }, [1, 2], ScalarType.Float64);
        var memory = tensor(new[] { 1.0, 0.0, 0.0, 1.0 }, [1, 2, 2], ScalarType.Float64).requires_grad_(true);
        var scores = ContrastiveLoss.ExpScores(embedding, memory, 0.5);
        Assert.Equal([1L, 2L], scores.shape);
        GoldenAssert.Close(Math.Exp(2), scores[0, 0].ToDouble(), "positive");
        GoldenAssert.Close(1.0, scores[0, 1].ToDouble(), "negative");
        GoldenAssert.Close((Math.Exp(2) + 1) / 2 * 10, ContrastiveLoss.EstimateNormalizer(scores, 10), "Z");
        Assert.False(scores.requires_grad, "memory rows are constants: no gradient may flow into the memory bank");
    }

    [Fact]
    public void Scores_are_differentiable_in_the_embedding()
    {
        using var scope = NewDisposeScope();
        var embedding = nn.functional.normalize(randn(2, 3, ScalarType.Float64)).requires_grad_(true);
        var memory = nn.functional.normalize(randn(2, 4, 3, ScalarType.Float64), dim: 2);
        var scores = ContrastiveLoss.ExpScores(embedding, memory, ContrastiveLoss.DefaultTemperature);
        double normaliser = ContrastiveLoss.EstimateNormalizer(scores, 50);
        ContrastiveLoss.NceLoss(scores / normaliser, 50).backward();
        Assert.True(isfinite(embedding.grad!).all().ToBoolean());
        Assert.True(embedding.grad!.abs().sum().ToDouble() > 0);
    }

    [Fact]
    public void Memory_update_mixes_with_momentum_then_renormalises()
    {
        using var scope = NewDisposeScope();
        // 0.5·(1, 0) + 0.5·(0, 1) = (1/2, 1/2) → unit (1/√2, 1/√2).
        var rows = tensor(new[] { 1.0, 0.0 }, [1, 2], ScalarType.Float64);
        var embedding = tensor(new[] { 0.0, 1.0 }, [1, 2], ScalarType.Float64).requires_grad_(true);
        var updated = ContrastiveLoss.UpdatedMemoryRows(rows, embedding, 0.5);
        GoldenAssert.Close(tensor(new[] { 1 / Math.Sqrt(2), 1 / Math.Sqrt(2) }, [1, 2], ScalarType.Float64), updated, "row");
        Assert.False(updated.requires_grad);
    }

    [Fact]
    public void Shape_mismatches_and_bad_sizes_fail()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(KdErrorIds.LossShapeMismatch,
            Assert.Throws<KdException>(() => ContrastiveLoss.NceLoss(ones(2, 1), 10)).ErrorId);
        Assert.Equal(KdErrorIds.LossShapeMismatch,
            Assert.Throws<KdException>(() => ContrastiveLoss.ExpScores(ones(2, 3), ones(2, 5, 4), 0.07)).ErrorId);
        Assert.Equal(KdErrorIds.MethodOptionInvalid,
            Assert.Throws<KdException>(() => ContrastiveLoss.NceLoss(ones(2, 3), 0)).ErrorId);
    }
}
