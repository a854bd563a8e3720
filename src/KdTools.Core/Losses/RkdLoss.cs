using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>The RKD objective and its two unweighted parts, so a trainer can log each.</summary>
/// <param name="Total"><c>w_d·Distance + w_a·Angle</c>.</param>
/// <param name="Distance">Unweighted distance-wise loss.</param>
/// <param name="Angle">Unweighted angle-wise loss.</param>
internal sealed record RkdLossTerms(Tensor Total, Tensor Distance, Tensor Angle);

/// <summary>Relational knowledge distillation (Park et al. 2019), as RepDistiller's RKDLoss.</summary>
internal static class RkdLoss
{
    /// <summary>The paper's distance weight.</summary>
    public const double DefaultDistanceWeight = 25.0;

    /// <summary>The paper's angle weight.</summary>
    public const double DefaultAngleWeight = 50.0;

    /// <summary>
    /// Distance-wise plus angle-wise relational loss on features flattened to [B, D] (student and teacher D may
    /// differ). Both parts are smooth-L1 (β = 1) means, over B² distances and B³ angles. The teacher side is constant.
    /// </summary>
    public static RkdLossTerms Compute(Tensor studentFeatures, Tensor teacherFeatures,
        double distanceWeight = DefaultDistanceWeight, double angleWeight = DefaultAngleWeight)
    {
        LossShapeChecks.SameBatch("RKD", studentFeatures, teacherFeatures);
        // With one sample there is no positive distance to normalise by: the mean would be NaN.
        LossShapeChecks.MinimumBatch("RKD", studentFeatures, 2);

        using var scope = NewDisposeScope();
        var student = studentFeatures.flatten(1);
        var teacher = teacherFeatures.detach().flatten(1);
        var distance = nn.functional.smooth_l1_loss(NormalisedDistances(student), NormalisedDistances(teacher));
        var angle = nn.functional.smooth_l1_loss(Angles(student), Angles(teacher));
        var total = distanceWeight * distance + angleWeight * angle;
        return new RkdLossTerms(total.MoveToOuterDisposeScope(), distance.MoveToOuterDisposeScope(), angle.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Pairwise Euclidean distances with a zero diagonal, divided by the mean of the positive ones. The squared
    /// distance is clamped at 1e-12 before the square root, so identical samples sit at exactly 1e-6 (counted as
    /// positive) and pass no gradient.
    /// </summary>
    private static Tensor NormalisedDistances(Tensor e)
    {
        var squaredNorms = e.pow(2).sum(1);
        var squared = squaredNorms.unsqueeze(1) + squaredNorms.unsqueeze(0) - 2 * e.matmul(e.t());
        var diagonal = eye(e.shape[0], dtype: ScalarType.Bool, device: e.device);
        var distances = squared.clamp_min(1e-12).sqrt().masked_fill(diagonal, 0.0);
        return distances / distances.masked_select(distances.gt(0)).mean();
    }

    /// <summary>All B³ cosines <c>e_ab·e_ac</c> with <c>e_ab = normalize(f_b − f_a)</c>, flattened.</summary>
    private static Tensor Angles(Tensor e)
    {
        var directions = nn.functional.normalize(e.unsqueeze(0) - e.unsqueeze(1), p: 2, dim: 2, eps: 1e-12);
        return directions.bmm(directions.transpose(1, 2)).view(-1);
    }
}
