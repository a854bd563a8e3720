using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Variational information distillation (Ahn et al. 2019), as RepDistiller's VIDLoss. The trainable parts (the 1×1
/// regressor and <c>log_scale</c>) belong to a module; this holds the math around them: match the spatial size with
/// <see cref="SpatialPooling.MatchHeights"/>, run the regressor on the pooled student feature, then call
/// <see cref="Compute"/>.
/// </summary>
internal static class VidLoss
{
    /// <summary>The reference's variance floor added to softplus(log_scale).</summary>
    public const double DefaultEps = 1e-5;

    /// <summary>The reference's initial predicted variance.</summary>
    public const double DefaultInitialVariance = 5.0;

    /// <summary>
    /// The <c>log_scale</c> value that makes the initial variance <paramref name="initialVariance"/>:
    /// <c>log(exp(v − eps) − 1)</c>, the inverse of <c>softplus(x) + eps</c>.
    /// </summary>
    public static double InitialLogScale(double initialVariance = DefaultInitialVariance, double eps = DefaultEps) =>
        Math.Log(Math.Exp(initialVariance - eps) - 1.0);

    /// <summary>
    /// Gaussian negative log-likelihood of the teacher feature under the predicted mean and a per-channel variance
    /// <c>σ² = softplus(log_scale) + eps</c>: <c>mean(0.5·((μ − target)²/σ² + log σ²))</c> over B·C·H·W.
    /// The target is treated as a constant.
    /// </summary>
    /// <param name="predictedMean">Regressor output μ, [B, C_t, H, W].</param>
    /// <param name="target">Teacher feature after spatial matching, [B, C_t, H, W].</param>
    /// <param name="logScale">Trainable [C_t] vector.</param>
    /// <param name="eps">Variance floor.</param>
    public static Tensor Compute(Tensor predictedMean, Tensor target, Tensor logScale, double eps = DefaultEps)
    {
        LossShapeChecks.Rank("VID", predictedMean, 4, "[B, C, H, W]");
        LossShapeChecks.SameShape("VID", predictedMean, target);
        if (logScale.dim() != 1 || logScale.shape[0] != target.shape[1])
            throw LossShapeChecks.Mismatch("VID",
                $"log_scale must be a vector with one entry per target channel ({target.shape[1]}), got [{string.Join(", ", logScale.shape)}]");

        using var scope = NewDisposeScope();
        // softplus equals the reference's log(1 + exp(x)) and does not overflow for a large log_scale.
        var variance = (nn.functional.softplus(logScale) + eps).view(1, -1, 1, 1);
        var negativeLogLikelihood = 0.5 * ((predictedMean - target.detach()).pow(2) / variance + variance.log());
        return negativeLogLikelihood.mean().MoveToOuterDisposeScope();
    }
}
