using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Activation boundary transfer (Heo et al. 2019), as RepDistiller's ABLoss: the student's connector output is pushed
/// beyond ±margin on the side where the teacher's pre-ReLU neuron is on (t &gt; 0) or off (t ≤ 0).
/// </summary>
internal static class ActivationBoundaryLoss
{
    /// <summary>The reference's margin.</summary>
    public const double DefaultMargin = 1.0;

    /// <summary>
    /// The weighted, scaled loss of every layer pair, in input order:
    /// <c>2^(i−n+1) · Σ[(s+m)²·[s &gt; −m ∧ t ≤ 0] + (s−m)²·[s ≤ m ∧ t &gt; 0]] / B / 1000 · 3</c> for pair i of n,
    /// where B is the batch size of the first pair. Pairs must have equal shapes. Teacher maps are constants.
    /// </summary>
    public static Tensor[] ComputeLayers(IReadOnlyList<Tensor> studentMaps, IReadOnlyList<Tensor> teacherMaps, double margin = DefaultMargin)
    {
        LossShapeChecks.SameCount("AB", studentMaps, teacherMaps);
        int layers = studentMaps.Count;
        long batch = studentMaps[0].shape[0];
        var losses = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            using var scope = NewDisposeScope();
            // Deeper pairs weigh more: 1/2^(n−1), ..., 1/2, 1. The /1000·3 is the reference's fixed scale.
            double weight = Math.Pow(2, i - layers + 1) / batch / 1000.0 * 3.0;
            losses[i] = (BoundarySum(studentMaps[i], teacherMaps[i], margin) * weight).MoveToOuterDisposeScope();
        }
        return losses;
    }

    /// <summary>
    /// The unweighted sum for one pair. Boundaries: t == 0 counts as off; s == −m is already beyond the off margin,
    /// s == m not yet beyond the on margin (its term is 0 there).
    /// </summary>
    public static Tensor BoundarySum(Tensor studentMap, Tensor teacherMap, double margin = DefaultMargin)
    {
        LossShapeChecks.SameShape("AB", studentMap, teacherMap);
        using var scope = NewDisposeScope();
        var teacher = teacherMap.detach();
        var offViolation = studentMap.gt(-margin).logical_and(teacher.le(0)).to_type(studentMap.dtype);
        var onViolation = studentMap.le(margin).logical_and(teacher.gt(0)).to_type(studentMap.dtype);
        var penalty = (studentMap + margin).pow(2) * offViolation + (studentMap - margin).pow(2) * onViolation;
        return penalty.sum().MoveToOuterDisposeScope();
    }
}
