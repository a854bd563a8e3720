using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Correlation congruence (Peng et al., ICCV 2019). <see cref="Compute"/> is the paper's loss with the P-order Taylor
/// expansion of a Gaussian RBF kernel. RepDistiller's CC.py holds a different formula (code the authors e-mailed to
/// RepDistiller); it is kept as <see cref="ComputeRepDistiller"/> for reproducing RepDistiller's tables.
/// </summary>
internal static class CorrelationCongruenceLoss
{
    /// <summary>The paper's kernel bandwidth γ (also torchdistill's configuration).</summary>
    public const double DefaultGamma = 0.4;

    /// <summary>The paper's Taylor order P.</summary>
    public const int DefaultTaylorOrder = 2;

    /// <summary>
    /// <c>mean((C_s − C_t)²)</c> over the B×B correlation matrices <c>C_ij = k(f_i, f_j)</c> with
    /// <c>k(a, b) ≈ Σ_{p=0..P} e^(−2γ)·(2γ)^p/p!·(a·b)^p</c>, the Taylor expansion of <c>exp(−γ‖a − b‖²)</c>.
    /// The embeddings [B, D] (D may differ) are L2-normalised first: the expansion equals the RBF kernel only for
    /// unit vectors. The teacher side is constant.
    /// </summary>
    public static Tensor Compute(Tensor studentEmbedding, Tensor teacherEmbedding,
        double gamma = DefaultGamma, int taylorOrder = DefaultTaylorOrder)
    {
        LossShapeChecks.SameBatch("CC", studentEmbedding, teacherEmbedding);
        if (taylorOrder < 0 || !(gamma > 0))
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"CC: gamma must be positive and the Taylor order non-negative, got gamma {gamma}, order {taylorOrder}");
        using var scope = NewDisposeScope();
        var difference = Correlation(studentEmbedding, gamma, taylorOrder) - Correlation(teacherEmbedding.detach(), gamma, taylorOrder);
        return difference.pow(2).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RepDistiller's variant: with <c>δ = |f_s − f_t|</c> over [B, D] embeddings of equal shape,
    /// <c>mean_i Σ_d δ_i,d·δ_(i+1),d</c> over the B − 1 consecutive sample pairs of the batch. Both sides take gradients:
    /// in RepDistiller the teacher's embedding head (after the teacher's constant features) learns through this loss.
    /// </summary>
    public static Tensor ComputeRepDistiller(Tensor studentEmbedding, Tensor teacherEmbedding)
    {
        LossShapeChecks.Rank("CC", studentEmbedding, 2, "[B, D]");
        LossShapeChecks.SameShape("CC", studentEmbedding, teacherEmbedding);
        LossShapeChecks.MinimumBatch("CC", studentEmbedding, 2);
        using var scope = NewDisposeScope();
        var delta = (studentEmbedding - teacherEmbedding).abs();
        long batch = delta.shape[0];
        var consecutiveProducts = delta.narrow(0, 0, batch - 1) * delta.narrow(0, 1, batch - 1);
        return consecutiveProducts.sum(1).mean().MoveToOuterDisposeScope();
    }

    private static Tensor Correlation(Tensor embedding, double gamma, int taylorOrder)
    {
        var unit = nn.functional.normalize(embedding.flatten(1), p: 2, dim: 1, eps: 1e-12);
        var cosine = unit.matmul(unit.t());
        // Horner form of Σ_p c_p·x^p with c_p = (2γ)^p/p!; the common factor e^(−2γ) is applied once at the end.
        var series = ones_like(cosine) * Coefficient(gamma, taylorOrder);
        for (int p = taylorOrder - 1; p >= 0; p--)
            series = series * cosine + Coefficient(gamma, p);
        return series * Math.Exp(-2 * gamma);
    }

    private static double Coefficient(double gamma, int power)
    {
        double value = 1.0;
        for (int k = 1; k <= power; k++) value *= 2 * gamma / k;
        return value;
    }
}
