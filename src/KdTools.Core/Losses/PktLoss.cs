using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>Probabilistic knowledge transfer (Passalis &amp; Tefas 2018), as RepDistiller's PKT.</summary>
internal static class PktLoss
{
    /// <summary>The reference's epsilon, used both for the norms and inside the log ratio.</summary>
    public const double DefaultEps = 1e-7;

    /// <summary>
    /// KL divergence between the teacher's and the student's conditional probability matrices built from cosine
    /// similarities: <c>mean(p_t·log((p_t + eps)/(p_s + eps)))</c> over B² entries. Features are flattened to [B, D];
    /// widths may differ. The teacher side is constant.
    /// </summary>
    /// <remarks>
    /// Like the reference, an all-zero student row yields a finite loss but a NaN gradient for that row (the backward
    /// of the norm's square root at 0). That is deliberate fidelity: a NaN gradient flags a dead feature that a
    /// silently zero gradient would hide.
    /// </remarks>
    public static Tensor Compute(Tensor studentFeatures, Tensor teacherFeatures, double eps = DefaultEps)
    {
        LossShapeChecks.SameBatch("PKT", studentFeatures, teacherFeatures);
        using var scope = NewDisposeScope();
        var studentProbabilities = ConditionalProbabilities(studentFeatures.flatten(1), eps);
        var teacherProbabilities = ConditionalProbabilities(teacherFeatures.detach().flatten(1), eps);
        var divergence = teacherProbabilities * ((teacherProbabilities + eps) / (studentProbabilities + eps)).log();
        return divergence.mean().MoveToOuterDisposeScope();
    }

    /// <summary>Cosine similarities mapped to [0, 1] and normalised so that each row sums to 1.</summary>
    private static Tensor ConditionalProbabilities(Tensor x, double eps)
    {
        // An explicit sqrt (not norm()) keeps the reference's backward, NaN at an all-zero row included.
        var unit = x / (x.pow(2).sum(1, keepdim: true).sqrt() + eps);
        unit = unit.masked_fill(unit.isnan(), 0.0);
        var similarity = (unit.matmul(unit.t()) + 1.0) / 2.0;
        return similarity / similarity.sum(1, keepdim: true);
    }
}
