using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>ReviewKD's hierarchical context loss (Chen et al., CVPR 2021), as mdistiller's <c>hcl_loss</c>.</summary>
internal static class HierarchicalContextLoss
{
    /// <summary>The pyramid levels pooled besides the full map, coarsest last.</summary>
    private static readonly long[] Levels = [4, 2, 1];

    /// <summary>
    /// Per pair of equal shapes: <c>MSE(fs, ft)</c> plus, for each level l in 4, 2, 1 smaller than the height,
    /// <c>MSE(pool_l(fs), pool_l(ft))</c> with weights 1/2, 1/4, 1/8 (adaptive average pooling to l×l), divided by
    /// the sum of the weights used; summed over the pairs. Teacher maps are constants.
    /// </summary>
    /// <param name="student">The fused student maps (ReviewKD's ABF outputs), [B, C, H, W] each.</param>
    /// <param name="teacher">The teacher maps, shaped like the student's at each position.</param>
    public static Tensor Compute(IReadOnlyList<Tensor> student, IReadOnlyList<Tensor> teacher)
    {
        LossShapeChecks.SameCount("ReviewKD", student, teacher);
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (int i = 0; i < student.Count; i++)
        {
            LossShapeChecks.Rank("ReviewKD", student[i], 4, "[B, C, H, W]");
            LossShapeChecks.SameShape("ReviewKD", student[i], teacher[i]);
            var s = student[i];
            var t = teacher[i].detach();
            var pair = mse_loss(s, t);
            double weight = 1, weights = 1;
            foreach (long level in Levels.Where(l => l < s.shape[2]))
            {
                weight /= 2;
                pair = pair + weight * mse_loss(adaptive_avg_pool2d(s, [level, level]), adaptive_avg_pool2d(t, [level, level]));
                weights += weight;
            }
            total = total is null ? pair / weights : total + pair / weights;
        }
        return total!.MoveToOuterDisposeScope();
    }
}
