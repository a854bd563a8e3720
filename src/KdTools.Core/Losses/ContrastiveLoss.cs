using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// The pure pieces of contrastive representation distillation (Tian et al. 2020), as RepDistiller's ContrastMemory
/// and ContrastLoss. The memory bank (two [N, D] buffers of past embeddings and the fixed normalisers Z) is state
/// and lives with the method; one side of a step is:
/// <c>e = ExpScores(embedding, memoryRows, τ)</c>; on the first step <c>Z = EstimateNormalizer(e, N)</c>;
/// <c>loss = NceLoss(e / Z, N)</c>; then the memory rows of the batch become <see cref="UpdatedMemoryRows"/>.
/// </summary>
internal static class ContrastiveLoss
{
    /// <summary>RepDistiller's temperature τ (<c>--nce_t</c>).</summary>
    public const double DefaultTemperature = 0.07;

    /// <summary>RepDistiller's memory momentum (<c>--nce_m</c>).</summary>
    public const double DefaultMomentum = 0.5;

    /// <summary>The epsilon inside the NCE posteriors.</summary>
    public const double Eps = 1e-7;

    /// <summary>
    /// Unnormalised scores <c>exp(m_k·v / τ)</c> of each anchor embedding against its K + 1 memory rows.
    /// </summary>
    /// <param name="embedding">[B, D] anchor embeddings (L2-normalised by the embedding head).</param>
    /// <param name="memoryRows">[B, K + 1, D] rows gathered from the other side's memory; row 0 is the positive
    /// (the sample itself), rows 1..K the negatives. Memory is a constant: no gradient flows into it.</param>
    /// <param name="temperature">τ.</param>
    /// <returns>[B, K + 1].</returns>
    public static Tensor ExpScores(Tensor embedding, Tensor memoryRows, double temperature = DefaultTemperature)
    {
        LossShapeChecks.Rank("CRD", embedding, 2, "[B, D] embedding");
        LossShapeChecks.Rank("CRD", memoryRows, 3, "[B, K + 1, D] memory-row");
        if (memoryRows.shape[0] != embedding.shape[0] || memoryRows.shape[2] != embedding.shape[1])
            throw LossShapeChecks.Mismatch("CRD",
                $"memory rows [{string.Join(", ", memoryRows.shape)}] do not fit embeddings [{string.Join(", ", embedding.shape)}]; expected [B, K + 1, D]");
        using var scope = NewDisposeScope();
        var dot = memoryRows.detach().bmm(embedding.unsqueeze(2)).squeeze(2);
        return (dot / temperature).exp().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RepDistiller's normalisation constant <c>Z = mean(exp scores)·N</c>, estimated once from the first batch and
    /// then kept fixed, so that <c>scores / Z</c> approximates a probability over the N dataset samples.
    /// </summary>
    public static double EstimateNormalizer(Tensor expScores, long datasetSize)
    {
        RequirePositive(datasetSize);
        using var scope = NewDisposeScope();
        return expScores.detach().mean().ToDouble() * datasetSize;
    }

    /// <summary>
    /// The NCE loss (Eq. 18 of the paper) with a uniform noise distribution <c>P_n = 1/N</c>:
    /// <c>−(Σ_b log(P_pos/(P_pos + K·P_n + eps)) + Σ_b Σ_k log(K·P_n/(P_neg + K·P_n + eps))) / B</c>.
    /// </summary>
    /// <param name="scores">[B, K + 1] normalised scores, column 0 the positive.</param>
    /// <param name="datasetSize">N, the number of training samples (the memory size).</param>
    public static Tensor NceLoss(Tensor scores, long datasetSize)
    {
        LossShapeChecks.Rank("CRD", scores, 2, "[B, K + 1] score");
        if (scores.shape[1] < 2)
            throw LossShapeChecks.Mismatch("CRD", $"scores need a positive and at least one negative column, got [{string.Join(", ", scores.shape)}]");
        RequirePositive(datasetSize);

        using var scope = NewDisposeScope();
        long negatives = scores.shape[1] - 1;
        double noiseMass = negatives / (double)datasetSize;
        var positive = scores.select(1, 0);
        var negative = scores.narrow(1, 1, negatives);
        var logPositivePosterior = (positive / (positive + (noiseMass + Eps))).log();
        var logNegativePosterior = (noiseMass / (negative + (noiseMass + Eps))).log();
        var loss = -(logPositivePosterior.sum() + logNegativePosterior.sum()) / scores.shape[0];
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The memory rows after a step: <c>normalize(momentum·rows + (1 − momentum)·embedding)</c>, row-wise L2.
    /// Detached; the caller writes them back with <c>index_copy_</c>.
    /// </summary>
    public static Tensor UpdatedMemoryRows(Tensor currentRows, Tensor embedding, double momentum = DefaultMomentum)
    {
        LossShapeChecks.Rank("CRD", currentRows, 2, "[B, D] memory-row");
        LossShapeChecks.SameShape("CRD", currentRows, embedding);
        using var scope = NewDisposeScope();
        var mixed = currentRows.detach() * momentum + embedding.detach() * (1 - momentum);
        return nn.functional.normalize(mixed, p: 2, dim: 1, eps: 1e-12).MoveToOuterDisposeScope();
    }

    private static void RequirePositive(long datasetSize)
    {
        if (datasetSize <= 0)
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"CRD: the dataset size N must be positive, got {datasetSize}", datasetSize);
    }
}
