using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>The two relations of DIST, unweighted, each already τ²-scaled.</summary>
/// <param name="Inter">Inter-class relation: one minus the mean Pearson correlation of the samples' class distributions.</param>
/// <param name="Intra">Intra-class relation: the same over the classes' distributions across the batch.</param>
internal sealed record DistParts(Tensor Inter, Tensor Intra);

/// <summary>
/// DIST (Huang et al., NeurIPS 2022), "knowledge distillation from a stronger teacher", as the authors'
/// <c>lib/models/losses/dist_kd.py</c> and torchdistill's <c>DISTLoss</c>: match the Pearson correlations of the
/// softened class probabilities rather than the probabilities themselves.
/// </summary>
internal static class DistLoss
{
    /// <summary>The authors' epsilon in the Pearson denominator.</summary>
    public const double Eps = 1e-8;

    /// <summary>
    /// <c>y = softmax(z/τ)</c>; inter = <c>τ²·(1 − mean_b pearson(y_s[b,:], y_t[b,:]))</c>,
    /// intra = <c>τ²·(1 − mean_k pearson(y_s[:,k], y_t[:,k]))</c>, where pearson is the cosine of the mean-centred
    /// vectors with 1e-8 added to the product of their norms. Teacher logits are constants.
    /// </summary>
    /// <param name="studentLogits">[B, K].</param>
    /// <param name="teacherLogits">[B, K].</param>
    /// <param name="tau">Temperature τ &gt; 0.</param>
    public static DistParts Parts(Tensor studentLogits, Tensor teacherLogits, double tau = 1)
    {
        LossShapeChecks.Rank("DIST", studentLogits, 2, "[B, classes]");
        LossShapeChecks.SameShape("DIST", studentLogits, teacherLogits);
        if (!(tau > 0))
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument, $"DIST: τ must be positive, got {tau}", tau);
        using var scope = NewDisposeScope();
        var student = softmax(studentLogits / tau, 1);
        var teacher = softmax(teacherLogits.detach() / tau, 1);
        double scale = tau * tau;
        var inter = (1 - MeanPearson(student, teacher)) * scale;
        var intra = (1 - MeanPearson(student.t(), teacher.t())) * scale;
        return new DistParts(inter.MoveToOuterDisposeScope(), intra.MoveToOuterDisposeScope());
    }

    /// <summary>Mean over rows of the Pearson correlation of matching rows.</summary>
    private static Tensor MeanPearson(Tensor a, Tensor b)
    {
        var ca = a - a.mean([1], keepdim: true);
        var cb = b - b.mean([1], keepdim: true);
        var cosine = (ca * cb).sum(1) / (ca.norm(1) * cb.norm(1) + Eps);
        return cosine.mean();
    }
}
