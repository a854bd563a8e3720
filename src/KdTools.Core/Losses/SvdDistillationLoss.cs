using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>How a [B, C, H, W] map becomes the per-sample matrix whose right singular vectors are compared.</summary>
internal enum SvdLayout
{
    /// <summary>An (H·W)×C matrix: right singular vectors over the channels, as RepDistiller's port and the authors' TensorFlow code (NHWC).</summary>
    Channels,

    /// <summary>A (C·H)×W matrix: right singular vectors over the width, as mdistiller's <c>feat.view(B, C·H, W)</c>.</summary>
    Width,
}

/// <summary>
/// Self-supervised KD with singular value decomposition (Lee, Kim, Song, ECCV 2018), as RepDistiller's and mdistiller's KDSVD, with the authors' SVD gradient: the
/// leading right singular vectors of each stage, weighted by the teacher's normalised singular values, are related
/// between consecutive stages by a Gaussian kernel, and the student's relations are matched to the teacher's.
/// </summary>
internal static class SvdDistillationLoss
{
    /// <summary>mdistiller's number of singular vectors (<c>KDSVD.K</c>).</summary>
    public const int DefaultK = 1;

    /// <summary>The student offers this many more candidates than k for the alignment, as the reference.</summary>
    private const int ExtraCandidates = 3;

    /// <summary>
    /// <c>Σ_{i≥1} Σ (rbf(v_s,i, v_s,i−1) − rbf(v_t,i, v_t,i−1))² / B</c> with <c>rbf(a, b)[p, q, j] = exp(−(a[p,j] − b[q,j])²/8)</c>,
    /// non-finite entries dropped, over the stages in order. The teacher's k leading right singular vectors (unit
    /// length, each flipped so that its largest-magnitude entry is positive) are scaled by its k leading singular values
    /// normalised to unit length; each is matched by the student's best-aligned one among its k + 3 leading vectors,
    /// sign-corrected to point the teacher's way (<see cref="Align"/>) and scaled by the same teacher values.
    /// Teacher maps are constants.
    /// </summary>
    /// <param name="student">[B, C, H, W] maps, shallow to deep.</param>
    /// <param name="teacher">The teacher's maps at the same positions; the compared dimension (C or W) must match.</param>
    /// <param name="k">Singular vectors per stage.</param>
    /// <param name="layout">How a map becomes a matrix.</param>
    public static Tensor Compute(IReadOnlyList<Tensor> student, IReadOnlyList<Tensor> teacher, int k = DefaultK, SvdLayout layout = SvdLayout.Channels)
    {
        LossShapeChecks.SameCount("KDSVD", student, teacher);
        if (student.Count < 2) throw LossShapeChecks.Mismatch("KDSVD", "needs at least two consecutive stages");
        if (k < 1) throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument, $"KDSVD: k must be ≥ 1, got {k}", k);
        using var scope = NewDisposeScope();
        Tensor? total = null, previousStudent = null, previousTeacher = null;
        for (int i = 0; i < student.Count; i++)
        {
            LossShapeChecks.SameBatch("KDSVD", student[i], teacher[i]);
            var (teacherValues, teacherVectors) = Decompose(teacher[i].detach(), k, layout);
            teacherVectors = CanonicalSigns(teacherVectors);
            var (_, studentVectors) = Decompose(student[i], k + ExtraCandidates, layout);
            if (studentVectors.shape[1] != teacherVectors.shape[1])
                throw LossShapeChecks.Mismatch("KDSVD",
                    $"stage {i + 1} compares {studentVectors.shape[1]} student with {teacherVectors.shape[1]} teacher {(layout == SvdLayout.Channels ? "channels" : "columns")}; they must be equal");
            var weights = teacherValues.unsqueeze(1);
            var studentWeighted = Align(studentVectors, teacherVectors) * weights;
            var teacherWeighted = teacherVectors * weights;
            if (previousStudent is not null)
            {
                var difference = (Kernel(studentWeighted, previousStudent) - Kernel(teacherWeighted, previousTeacher!)).pow(2);
                var finite = where(difference.isfinite(), difference, zeros_like(difference)).sum();
                total = total is null ? finite : total + finite;
            }
            (previousStudent, previousTeacher) = (studentWeighted, teacherWeighted);
        }
        return (total! / student[0].shape[0]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The n leading singular values (normalised to unit length per sample, [B, n]) and right singular vectors
    /// (unit columns, [B, D, n]) of each sample's matrix; non-finite entries become 0 as in the reference. n is capped
    /// at the matrix rank bound. The decomposition back-propagates the authors' way (<see cref="SvdWithAuthorsGradient"/>).
    /// </summary>
    public static (Tensor Values, Tensor Vectors) Decompose(Tensor feature, int n, SvdLayout layout)
    {
        LossShapeChecks.Rank("KDSVD", feature, 4, "[B, C, H, W]");
        using var scope = NewDisposeScope();
        long b = feature.shape[0], c = feature.shape[1], h = feature.shape[2], w = feature.shape[3];
        var matrix = layout == SvdLayout.Channels ? feature.reshape(b, c, h * w).transpose(1, 2) : feature.reshape(b, c * h, w);
        var (values, rightVectors) = SvdWithAuthorsGradient.Decompose(matrix);
        long kept = Math.Min(n, values.shape[1]);
        var vectors = Finite(rightVectors).narrow(2, 0, kept);
        var leading = Finite(values).narrow(1, 0, kept);
        return (normalize(leading, dim: 1).MoveToOuterDisposeScope(), normalize(vectors, dim: 1).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// For each teacher vector, the student candidate with the largest |cosine|, multiplied by the sign of that
    /// cosine: singular vectors are defined up to sign, so this makes the student's choice irrelevant.
    /// </summary>
    /// <param name="candidates">[B, D, m] student vectors.</param>
    /// <param name="targets">[B, D, k] teacher vectors.</param>
    /// <returns>[B, D, k].</returns>
    public static Tensor Align(Tensor candidates, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var cosine = candidates.transpose(1, 2).bmm(targets);
        var magnitude = cosine.abs();
        var best = magnitude.max(1, keepdim: true).values;
        var selection = where(magnitude.eq(best), cosine.sign(), zeros_like(cosine));
        return candidates.bmm(selection).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Flips each vector so its largest-magnitude entry is positive. The reference leaves the teacher's sign to the
    /// SVD routine, and the relation between consecutive stages depends on it; a fixed convention makes the loss the
    /// same on every LAPACK (CPU or GPU).
    /// </summary>
    private static Tensor CanonicalSigns(Tensor vectors)
    {
        var largest = vectors.abs().argmax(1, keepdim: true);
        var sign = vectors.gather(1, largest).sign();
        return vectors * where(sign.eq(0), ones_like(sign), sign);
    }

    /// <summary>[B, D_a, D_b, k]: exp(−(a[p] − b[q])²/8) per singular vector.</summary>
    private static Tensor Kernel(Tensor a, Tensor b) => (-(a.unsqueeze(2) - b.unsqueeze(1)).pow(2) / 8).exp();

    private static Tensor Finite(Tensor x) => where(x.isfinite(), x, zeros_like(x));
}
