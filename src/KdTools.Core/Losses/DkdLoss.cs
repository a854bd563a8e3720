using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>The two parts of decoupled KD, unweighted, each already T²/B-scaled.</summary>
/// <param name="TargetClass">TCKD: KL of the binary (target, rest) probabilities.</param>
/// <param name="NonTargetClass">NCKD: KL of the probabilities among the non-target classes.</param>
internal sealed record DkdParts(Tensor TargetClass, Tensor NonTargetClass);

/// <summary>Decoupled knowledge distillation (Zhao et al., CVPR 2022), as mdistiller's <c>dkd_loss</c>.</summary>
internal static class DkdLoss
{
    /// <summary>mdistiller's CIFAR defaults.</summary>
    public const double DefaultAlpha = 1, DefaultBeta = 8, DefaultTemperature = 4;

    /// <summary>How far the reference pushes the target logit down to take it out of the non-target softmax.</summary>
    private const double TargetSuppression = 1000;

    /// <summary>
    /// With <c>p = softmax(z/T)</c> and the one-hot target mask <c>gt</c>:
    /// TCKD = <c>T²/B·Σ KL([p_t^gt, Σ_other p_t] ‖ [p_s^gt, Σ_other p_s])</c>, the student's log taken of its binary
    /// probabilities directly (as the reference's <c>torch.log</c>, so a saturated student gives −inf there, not a
    /// clamp); NCKD = <c>T²/B·Σ KL(softmax(z_t/T − 1000·gt) ‖ softmax(z_s/T − 1000·gt))</c>. Teacher logits are constants.
    /// </summary>
    /// <param name="studentLogits">[B, K].</param>
    /// <param name="teacherLogits">[B, K].</param>
    /// <param name="target">[B] int64 class indices.</param>
    /// <param name="temperature">T &gt; 0.</param>
    public static DkdParts Parts(Tensor studentLogits, Tensor teacherLogits, Tensor target, double temperature = DefaultTemperature)
    {
        LossShapeChecks.Rank("DKD", studentLogits, 2, "[B, classes]");
        LossShapeChecks.SameShape("DKD", studentLogits, teacherLogits);
        if (target.dim() != 1 || target.shape[0] != studentLogits.shape[0])
            throw LossShapeChecks.Mismatch("DKD", $"expects [B] targets for [B, classes] logits, got [{string.Join(", ", target.shape)}]");
        if (!(temperature > 0))
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"DKD: the temperature must be positive, got {temperature}", temperature);

        using var scope = NewDisposeScope();
        double scale = temperature * temperature / studentLogits.shape[0];
        var teacher = teacherLogits.detach();
        var gt = zeros_like(studentLogits).scatter_(1, target.unsqueeze(1), ones_like(studentLogits));

        var tckd = BinaryKl(softmax(studentLogits / temperature, 1), softmax(teacher / temperature, 1), gt) * scale;

        var suppressed = gt * TargetSuppression;
        var studentNonTarget = log_softmax(studentLogits / temperature - suppressed, 1);
        var teacherNonTarget = softmax(teacher / temperature - suppressed, 1);
        // log_target: false takes xlogy(p, p), so the teacher's vanished target probability adds exactly 0.
        var nckd = kl_div(studentNonTarget, teacherNonTarget, reduction: nn.Reduction.Sum, log_target: false) * scale;
        return new DkdParts(tckd.MoveToOuterDisposeScope(), nckd.MoveToOuterDisposeScope());
    }

    /// <summary>Σ_b KL of the (target, rest) probabilities.</summary>
    private static Tensor BinaryKl(Tensor studentProbs, Tensor teacherProbs, Tensor gt)
    {
        static Tensor Binary(Tensor probs, Tensor gt) =>
            cat([(probs * gt).sum(1, keepdim: true), (probs * (1 - gt)).sum(1, keepdim: true)], 1);
        return kl_div(Binary(studentProbs, gt).log(), Binary(teacherProbs, gt), reduction: nn.Reduction.Sum, log_target: false);
    }
}
