using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// The spatial matching rule RepDistiller's AT, FT, VID and NST share: only the heights are compared, and the map
/// with the larger height is adaptive-average-pooled to a square of the smaller height.
/// </summary>
internal static class SpatialPooling
{
    /// <summary>
    /// Brings two [B, C, H, W] maps to the same spatial size. Channel counts may differ. A map that needs no pooling
    /// is returned as it is (the same tensor object), so callers must not dispose the results separately.
    /// <paramref name="loss"/> names the caller in error messages.
    /// </summary>
    public static (Tensor Student, Tensor Teacher) MatchHeights(Tensor student, Tensor teacher, string loss = "spatial pooling")
    {
        LossShapeChecks.Rank(loss, student, 4, "[B, C, H, W]");
        LossShapeChecks.Rank(loss, teacher, 4, "[B, C, H, W]");
        LossShapeChecks.SameBatch(loss, student, teacher);
        long studentHeight = student.shape[2], teacherHeight = teacher.shape[2];
        (Tensor Student, Tensor Teacher) matched =
            studentHeight > teacherHeight ? (nn.functional.adaptive_avg_pool2d(student, [teacherHeight, teacherHeight]), teacher)
            : studentHeight < teacherHeight ? (student, nn.functional.adaptive_avg_pool2d(teacher, [studentHeight, studentHeight]))
            : (student, teacher);
        // The rule leaves maps of equal height unpooled, so different widths would only fail later, inside libtorch.
        if (matched.Student.shape[3] != matched.Teacher.shape[3])
            throw LossShapeChecks.Mismatch(loss,
                $"maps of equal height must have equal widths, got [{string.Join(", ", student.shape)}] and [{string.Join(", ", teacher.shape)}]");
        return matched;
    }
}
