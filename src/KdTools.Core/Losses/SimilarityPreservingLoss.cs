using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>Similarity-preserving KD (Tung &amp; Mori 2019), as RepDistiller's Similarity.</summary>
internal static class SimilarityPreservingLoss
{
    /// <summary>
    /// One layer pair: features flattened to [B, D] (D may differ), Gram matrices <c>G = f·fᵀ</c> with each row
    /// L2-normalised (eps 1e-12), loss <c>Σ(G_t − G_s)² / B²</c>. Because of the row normalisation, scaling a feature
    /// by a positive constant leaves the loss unchanged. The teacher side is constant.
    /// </summary>
    public static Tensor Compute(Tensor studentFeature, Tensor teacherFeature)
    {
        LossShapeChecks.SameBatch("SP", studentFeature, teacherFeature);
        using var scope = NewDisposeScope();
        long batch = studentFeature.shape[0];
        var difference = NormalisedGram(teacherFeature.detach()) - NormalisedGram(studentFeature);
        return (difference.pow(2).sum() / (batch * batch)).MoveToOuterDisposeScope();
    }

    /// <summary>The loss of every layer pair, in input order (the paper trains on γ·Σ, γ = 3000).</summary>
    public static Tensor[] ComputeLayers(IReadOnlyList<Tensor> studentFeatures, IReadOnlyList<Tensor> teacherFeatures)
    {
        LossShapeChecks.SameCount("SP", studentFeatures, teacherFeatures);
        return studentFeatures.Zip(teacherFeatures, Compute).ToArray();
    }

    private static Tensor NormalisedGram(Tensor feature)
    {
        var flat = feature.flatten(1);
        return nn.functional.normalize(flat.matmul(flat.t()), p: 2, dim: 1, eps: 1e-12);
    }
}
