using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// The overhaul of feature distillation (Heo et al., ICCV 2019), as mdistiller's OFD: a margin per teacher channel
/// from the BatchNorm before its ReLU, and a partial L2 distance on pre-ReLU features that ignores the student where
/// the teacher's neuron is off and the student is already below the margin.
/// </summary>
internal static class OfdLoss
{
    /// <summary>Below this probability of a negative response the margin falls back to −3|γ|.</summary>
    private const double SmallestNegativeProbability = 0.001;

    /// <summary>
    /// The expected value of the teacher's negative responses per channel, from the BN's affine (γ, β) (the response
    /// being N(β, γ²) before the ReLU): <c>−|γ|·φ(β/|γ|)/Φ(−β/|γ|) + β</c> where <c>Φ(−β/|γ|) &gt; 0.001</c>, else
    /// <c>−3|γ|</c> (φ, Φ: the standard normal density and distribution). [C], in the dtype of <paramref name="weight"/>.
    /// </summary>
    public static Tensor Margins(Tensor weight, Tensor bias)
    {
        LossShapeChecks.Rank("OFD", weight, 1, "[C] BatchNorm weight");
        LossShapeChecks.SameShape("OFD", weight, bias);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var std = weight.abs();
        var ratio = bias / std;
        var negative = special.ndtr(-ratio);
        var density = (-0.5 * ratio.pow(2)).exp() / Math.Sqrt(2 * Math.PI);
        var expected = -std * density / negative + bias;
        return where(negative.gt(SmallestNegativeProbability), expected, -3 * std).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One level: <c>Σ_{c,h,w} mean_b [(s−m)²·[s&gt;m ∧ t≤m] + (s−t)²·[s&gt;t ∧ m&lt;t≤0] + (s−t)²·[t&gt;0]]</c>.
    /// </summary>
    /// <param name="student">[B, C, H, W], the student's connector output.</param>
    /// <param name="teacher">[B, C, H, W], the teacher's pre-ReLU feature at the student's size; a constant.</param>
    /// <param name="margins">[C], from <see cref="Margins"/>.</param>
    public static Tensor PartialL2(Tensor student, Tensor teacher, Tensor margins)
    {
        LossShapeChecks.Rank("OFD", student, 4, "[B, C, H, W]");
        LossShapeChecks.SameShape("OFD", student, teacher);
        if (margins.dim() != 1 || margins.shape[0] != student.shape[1])
            throw LossShapeChecks.Mismatch("OFD", $"needs one margin per channel ({student.shape[1]}), got [{string.Join(", ", margins.shape)}]");
        using var scope = NewDisposeScope();
        var t = teacher.detach();
        var m = margins.to(student.dtype).to(student.device).view(1, -1, 1, 1);
        var belowMargin = student.gt(m).logical_and(t.le(m));
        var betweenMarginAndZero = student.gt(t).logical_and(t.gt(m)).logical_and(t.le(0));
        var positive = t.gt(0);
        var toMargin = (student - m).pow(2) * belowMargin.to(student.dtype);
        var toTeacher = (student - t).pow(2) * betweenMarginAndZero.logical_or(positive).to(student.dtype);
        return (toMargin + toTeacher).mean([0]).sum().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// All levels, shallow to deep: each teacher map is adaptive-average-pooled to its student map's size, and level
    /// i of n is divided by 2^(n−i−1), so the deepest counts fully. Not yet multiplied by the feature weight.
    /// </summary>
    public static Tensor Compute(IReadOnlyList<Tensor> student, IReadOnlyList<Tensor> teacher, IReadOnlyList<Tensor> margins)
    {
        LossShapeChecks.SameCount("OFD", student, teacher);
        LossShapeChecks.SameCount("OFD", student, margins);
        using var scope = NewDisposeScope();
        int levels = student.Count;
        Tensor? total = null;
        for (int i = 0; i < levels; i++)
        {
            LossShapeChecks.Rank("OFD", teacher[i], 4, "[B, C, H, W]");
            var pooled = nn.functional.adaptive_avg_pool2d(teacher[i].detach(), [student[i].shape[2], student[i].shape[3]]);
            var level = PartialL2(student[i], pooled, margins[i]) / Math.Pow(2, levels - i - 1);
            total = total is null ? level : total + level;
        }
        return total!.MoveToOuterDisposeScope();
    }
}
