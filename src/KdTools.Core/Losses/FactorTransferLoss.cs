using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Factor transfer (Kim et al. 2018) between the student's translator output and the teacher's paraphraser factor.
/// Two readings exist: RepDistiller's channel-pooled factor (<see cref="Compute"/>) and the authors' whole-factor
/// normalisation (<see cref="ComputeOfficial"/>).
/// </summary>
internal static class FactorTransferLoss
{
    /// <summary>The authors' weight of the factor term in the student objective (<c>--beta 500</c>).</summary>
    public const double OfficialBeta = 500.0;

    /// <summary>
    /// RepDistiller's FactorTransfer(p1, p2): pooling as in AT, the factor is the AT map with exponent
    /// <paramref name="p1"/>, and the loss is <c>mean(|a_s − a_t|)</c> for <paramref name="p2"/> = 1, otherwise
    /// <c>mean((a_s − a_t)^p2)</c>. The teacher factor is a constant.
    /// </summary>
    public static Tensor Compute(Tensor studentFactor, Tensor teacherFactor, double p1 = 2.0, double p2 = 1.0)
    {
        using var scope = NewDisposeScope();
        var (student, teacher) = SpatialPooling.MatchHeights(studentFactor, teacherFactor.detach(), "FT");
        var difference = AttentionTransferLoss.AttentionMap(student, p1) - AttentionTransferLoss.AttentionMap(teacher, p1);
        var loss = p2 == 1.0 ? difference.abs().mean() : difference.pow(p2).mean();
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The authors' form: each sample's whole C·H·W factor is L2-normalised (eps 1e-12), then
    /// <c>mean(|FT(f_s) − FT(f_t)|)</c> over all elements. Shapes must be equal. Excludes <see cref="OfficialBeta"/>.
    /// </summary>
    public static Tensor ComputeOfficial(Tensor studentFactor, Tensor teacherFactor)
    {
        LossShapeChecks.Rank("FT", studentFactor, 4, "[B, C, H, W]");
        LossShapeChecks.SameShape("FT", studentFactor, teacherFactor);
        using var scope = NewDisposeScope();
        var student = nn.functional.normalize(studentFactor.flatten(1), p: 2, dim: 1, eps: 1e-12);
        var teacher = nn.functional.normalize(teacherFactor.detach().flatten(1), p: 2, dim: 1, eps: 1e-12);
        return nn.functional.l1_loss(student, teacher).MoveToOuterDisposeScope();
    }
}
