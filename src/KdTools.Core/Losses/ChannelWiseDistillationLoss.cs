using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>
/// Channel-wise distillation for dense prediction (Shu et al., ICCV 2021): each channel's map becomes a distribution
/// over its spatial positions, <c>softmax(x/τ)</c> over H·W, and the student's distributions are pulled to the
/// teacher's by KL divergence — so each channel learns where the teacher puts its mass (for logits: where each class
/// is), not a per-pixel class distribution as in pixel-wise KD.
/// </summary>
internal static class ChannelWiseDistillationLoss
{
    /// <summary>The paper's temperature for segmentation logits.</summary>
    public const double DefaultTemperature = 4;

    /// <summary>The paper's loss weight on logits (applied by the method, not here).</summary>
    public const double DefaultWeight = 3;

    /// <summary>
    /// <c>τ²/(N·C) · Σ_{n,c} Σ_{hw} p_T·(log p_T − log p_S)</c> with <c>p = softmax(x/τ)</c> over the H·W positions of
    /// each channel: the KL divergence summed over positions, averaged over the N·C channel maps, times τ² — the
    /// normalisation of the official TorchDistiller code and of mmrazor.
    /// </summary>
    /// <param name="student">[N, C, H, W] maps (logits or features).</param>
    /// <param name="teacher">Same shape; detached here.</param>
    public static Tensor Compute(Tensor student, Tensor teacher, double temperature = DefaultTemperature)
    {
        LossShapeChecks.Rank("channel-wise distillation", student, 4, "[N, C, H, W]");
        LossShapeChecks.SameShape("channel-wise distillation", student, teacher);
        if (!(temperature > 0))
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"channel-wise distillation needs a temperature > 0, got {temperature}", temperature);
        using var scope = NewDisposeScope();
        long maps = student.shape[0] * student.shape[1];
        var teacherLog = log_softmax(teacher.detach().reshape(maps, -1) / temperature, 1);
        var studentLog = log_softmax(student.reshape(maps, -1) / temperature, 1);
        var divergence = (teacherLog.exp() * (teacherLog - studentLog)).sum();
        return (divergence * (temperature * temperature / maps)).MoveToOuterDisposeScope();
    }
}
