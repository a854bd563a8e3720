using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>Hinton et al. (2015) knowledge distillation term, in RepDistiller's DistillKL convention.</summary>
internal static class KdLoss
{
    /// <summary>RepDistiller's default temperature (<c>--kd_T 4</c>).</summary>
    public const double DefaultTemperature = 4.0;

    /// <summary>
    /// <c>T² / B · Σ_b Σ_k p_t·(log p_t − log_softmax(y_s/T))</c> with <c>p_t = softmax(y_t/T)</c>: the KL divergence
    /// summed over classes, averaged over the batch, times T². Teacher probabilities that underflow to 0 add exactly 0.
    /// The teacher logits are treated as constants.
    /// </summary>
    /// <param name="studentLogits">[B, K] student logits.</param>
    /// <param name="teacherLogits">[B, K] teacher logits.</param>
    /// <param name="temperature">Softening temperature T (&gt; 0).</param>
    public static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, double temperature = DefaultTemperature)
    {
        LossShapeChecks.Rank("KD", studentLogits, 2, "[B, classes]");
        LossShapeChecks.SameShape("KD", studentLogits, teacherLogits);
        if (!(temperature > 0))
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"KD: the temperature must be positive, got {temperature}", temperature);

        using var scope = NewDisposeScope();
        var studentLogProbs = nn.functional.log_softmax(studentLogits / temperature, 1);
        var teacherProbs = nn.functional.softmax(teacherLogits.detach() / temperature, 1);
        // log_target: false makes libtorch use xlogy(p_t, p_t), which is what gives 0·log 0 = 0.
        var summed = nn.functional.kl_div(studentLogProbs, teacherProbs, log_target: false, reduction: nn.Reduction.Sum);
        return (summed * (temperature * temperature / studentLogits.shape[0])).MoveToOuterDisposeScope();
    }
}
