using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Flow of solution procedure (Yim et al., CVPR 2017), as RepDistiller's FSP: the Gram matrices between consecutive
/// feature maps ("how the network solves the task") of student and teacher are matched.
/// </summary>
internal static class FspLoss
{
    /// <summary>
    /// The FSP matrix of two maps of one network: the taller map is pooled to the other's height
    /// (<see cref="SpatialPooling.MatchHeights"/>), then <c>G[b, c₂, c₁] = mean_hw(top[b, c₂]·bottom[b, c₁])</c>, [B, C₂, C₁].
    /// </summary>
    /// <param name="bottom">[B, C₁, H, W], the shallower map.</param>
    /// <param name="top">[B, C₂, H', W'], the next map.</param>
    public static Tensor Matrix(Tensor bottom, Tensor top)
    {
        using var scope = NewDisposeScope();
        var (b, t) = SpatialPooling.MatchHeights(bottom, top, "FSP");
        var bottomFlat = b.flatten(2);
        var topFlat = t.flatten(2);
        return (topFlat.bmm(bottomFlat.transpose(1, 2)) / bottomFlat.shape[2]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One loss per consecutive pair of features, in order (n features give n − 1 losses):
    /// <c>mean((G_s − G_t)²)</c>. Student and teacher need the same channel counts at every position; teacher maps
    /// are constants. RepDistiller trains on their sum.
    /// </summary>
    public static Tensor[] ComputeLayers(IReadOnlyList<Tensor> studentFeatures, IReadOnlyList<Tensor> teacherFeatures)
    {
        LossShapeChecks.SameCount("FSP", studentFeatures, teacherFeatures);
        if (studentFeatures.Count < 2)
            throw LossShapeChecks.Mismatch("FSP", "needs at least two consecutive features per network");
        for (int i = 0; i < studentFeatures.Count; i++)
        {
            LossShapeChecks.Rank("FSP", studentFeatures[i], 4, "[B, C, H, W]");
            LossShapeChecks.Rank("FSP", teacherFeatures[i], 4, "[B, C, H, W]");
            if (studentFeatures[i].shape[1] != teacherFeatures[i].shape[1])
                throw LossShapeChecks.Mismatch("FSP",
                    $"feature {i} has {studentFeatures[i].shape[1]} student and {teacherFeatures[i].shape[1]} teacher channels; FSP matrices need equal channel counts");
        }
        var losses = new Tensor[studentFeatures.Count - 1];
        for (int i = 0; i < losses.Length; i++)
        {
            using var scope = NewDisposeScope();
            var student = Matrix(studentFeatures[i], studentFeatures[i + 1]);
            var teacher = Matrix(teacherFeatures[i].detach(), teacherFeatures[i + 1].detach());
            losses[i] = (student - teacher).pow(2).mean().MoveToOuterDisposeScope();
        }
        return losses;
    }
}
