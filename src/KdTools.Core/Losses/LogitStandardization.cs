using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Logit standardisation (Sun et al., CVPR 2024): each sample's logits are z-scored before the temperature, so a
/// student learns the teacher's logit relations rather than their range and scale.
/// </summary>
internal static class LogitStandardization
{
    /// <summary>The option description the logit methods share.</summary>
    public const string OptionDescription =
        "Z-score each sample's logits (student and teacher) before the temperature (Sun et al. 2024, logit standardisation); the authors pair it with T = 2 and a KD weight of 9.";

    /// <summary>The reference's epsilon added to the standard deviation.</summary>
    public const double Eps = 1e-7;

    /// <summary>
    /// <c>(z − mean_k z) / (1e-7 + std_k z)</c> over the last dimension, with the unbiased standard deviation (torch's
    /// default), as the authors' <c>normalize</c> and torchdistill's <c>LogitStdKDLoss</c>.
    /// </summary>
    /// <param name="logits">[B, K] logits, K ≥ 2.</param>
    public static Tensor ZScore(Tensor logits)
    {
        LossShapeChecks.Rank("logit standardisation", logits, 2, "[B, classes]");
        if (logits.shape[1] < 2)
            throw LossShapeChecks.Mismatch("logit standardisation", "needs at least two classes to standardise logits");
        using var scope = NewDisposeScope();
        var centred = logits - logits.mean([1], keepdim: true);
        return (centred / (logits.std(1, unbiased: true, keepdim: true) + Eps)).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="ZScore"/> when <paramref name="standardize"/>, else the logits unchanged (the same tensor).</summary>
    public static Tensor ZScoreIf(bool standardize, Tensor logits) => standardize ? ZScore(logits) : logits;
}
