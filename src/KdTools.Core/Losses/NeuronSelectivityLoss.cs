using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Neuron selectivity transfer (Huang &amp; Wang 2017), as RepDistiller's NSTLoss: the squared MMD between the
/// student's and the teacher's channel activation patterns under the polynomial kernel <c>k(x, y) = (xᵀy)²</c>
/// (d = 2, c = 0, the paper's choice).
/// </summary>
internal static class NeuronSelectivityLoss
{
    /// <summary>
    /// One layer pair: spatial matching as in AT, each channel's H·W map L2-normalised (eps 1e-12), then
    /// <c>mean(K_tt) + mean(K_ss) − 2·mean(K_st)</c> with the kernel means taken over B·C·C' channel pairs.
    /// Channel counts may differ. Zero when the normalised maps are identical; the teacher side is constant.
    /// </summary>
    public static Tensor Compute(Tensor studentFeature, Tensor teacherFeature)
    {
        using var scope = NewDisposeScope();
        var (student, teacher) = SpatialPooling.MatchHeights(studentFeature, teacherFeature.detach(), "NST");
        var s = ChannelPatterns(student);
        var t = ChannelPatterns(teacher);
        var loss = PolynomialKernel(t, t).mean() + PolynomialKernel(s, s).mean() - 2 * PolynomialKernel(s, t).mean();
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The loss of every layer pair, in input order (RepDistiller trains on β·Σ, β = 50).</summary>
    public static Tensor[] ComputeLayers(IReadOnlyList<Tensor> studentFeatures, IReadOnlyList<Tensor> teacherFeatures)
    {
        LossShapeChecks.SameCount("NST", studentFeatures, teacherFeatures);
        return studentFeatures.Zip(teacherFeatures, Compute).ToArray();
    }

    /// <summary>[B, C, H, W] to [B, C, H·W] with each channel's spatial pattern a unit vector.</summary>
    private static Tensor ChannelPatterns(Tensor feature) =>
        nn.functional.normalize(feature.flatten(2), p: 2, dim: 2, eps: 1e-12);

    /// <summary>[B, C_a, N] and [B, C_b, N] to the per-sample kernel matrix [B, C_a, C_b] of (a_i·b_j)².</summary>
    private static Tensor PolynomialKernel(Tensor a, Tensor b) => a.bmm(b.transpose(1, 2)).pow(2);
}
