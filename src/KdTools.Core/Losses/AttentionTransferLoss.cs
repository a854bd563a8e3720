using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>Attention transfer (Zagoruyko &amp; Komodakis 2017), as RepDistiller's Attention(p = 2).</summary>
internal static class AttentionTransferLoss
{
    /// <summary>The paper's and RepDistiller's exponent.</summary>
    public const double DefaultPower = 2.0;

    /// <summary>
    /// Spatial attention of a [B, C, H, W] map: <c>normalize(mean_c(f^p))</c> flattened to [B, H·W], each sample
    /// L2-normalised (eps 1e-12, so an all-zero sample stays 0).
    /// </summary>
    public static Tensor AttentionMap(Tensor feature, double p = DefaultPower)
    {
        LossShapeChecks.Rank("AT", feature, 4, "[B, C, H, W]");
        using var scope = NewDisposeScope();
        var channelMean = feature.pow(p).mean([1]);
        return nn.functional.normalize(channelMean.view(feature.shape[0], -1), p: 2, dim: 1, eps: 1e-12).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One layer pair: the larger-height map is pooled to the other's height (<see cref="SpatialPooling.MatchHeights"/>),
    /// then <c>mean((a_s − a_t)²)</c> of the attention maps. Channel counts may differ; the teacher map is a constant.
    /// </summary>
    public static Tensor Compute(Tensor studentFeature, Tensor teacherFeature, double p = DefaultPower)
    {
        using var scope = NewDisposeScope();
        var (student, teacher) = SpatialPooling.MatchHeights(studentFeature, teacherFeature.detach(), "AT");
        return (AttentionMap(student, p) - AttentionMap(teacher, p)).pow(2).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The unweighted loss of every layer pair, in input order. RepDistiller trains on β·Σ of these (β = 1000).
    /// </summary>
    public static Tensor[] ComputeLayers(IReadOnlyList<Tensor> studentFeatures, IReadOnlyList<Tensor> teacherFeatures, double p = DefaultPower)
    {
        LossShapeChecks.SameCount("AT", studentFeatures, teacherFeatures);
        return studentFeatures.Zip(teacherFeatures, (s, t) => Compute(s, t, p)).ToArray();
    }
}
