using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>
/// The cohort loss of one DIH step: <see cref="Total"/> to backpropagate, and each branch's KD loss for logging.
/// </summary>
/// <param name="Total">Sum of the active branches' losses (a scalar).</param>
/// <param name="PerBranch">Indexed by branch id (0 = final teacher classifier); null where the branch's α is 0.</param>
internal sealed record DihCohortLoss(Tensor Total, IReadOnlyList<Tensor?> PerBranch);

/// <summary>
/// Distilling Knowledge via Intermediate Classifiers (Asadian et al.): a student learns from the teacher's final
/// classifier and from heads fine-tuned on its intermediate stages, each through the DIH reference's KD loss.
/// Teacher logits are treated as constants.
/// </summary>
internal static class DihLoss
{
    public const double DefaultAlpha = 0.1;
    public const double DefaultTemperature = 5;

    /// <summary>
    /// The DIH reference's KD loss: <c>α·T²·KL(softmax(teacher/T) ‖ softmax(student/T))</c> summed over classes and
    /// averaged over the batch, plus <c>(1 − α)·CE(student, target)</c> with the batch-mean hard-label cross-entropy.
    /// </summary>
    /// <param name="studentLogits">[B, K].</param>
    /// <param name="teacherLogits">[B, K], detached here.</param>
    /// <param name="target">[B] int64 class indices.</param>
    /// <param name="alpha">Weight of the KL term; the cross-entropy gets 1 − α.</param>
    /// <param name="temperature">Softening temperature T of both logits.</param>
    /// <param name="standardize">Z-score both logits before the temperature in the KL term only
    /// (<see cref="LogitStandardization"/>); the cross-entropy keeps the raw student logits.</param>
    public static Tensor Kd(Tensor studentLogits, Tensor teacherLogits, Tensor target,
        double alpha = DefaultAlpha, double temperature = DefaultTemperature, bool standardize = false)
    {
        RequireSameShape(studentLogits, teacherLogits, "teacher logits");
        using var scope = NewDisposeScope();
        var kl = SoftenedKlBatchMean(LogitStandardization.ZScoreIf(standardize, studentLogits),
            LogitStandardization.ZScoreIf(standardize, teacherLogits.detach()), temperature);
        var ce = cross_entropy(studentLogits, target);
        return (kl * (alpha * temperature * temperature) + ce * (1 - alpha)).MoveToOuterDisposeScope();
    }

    /// <summary>The cohort loss with one α for every branch.</summary>
    public static DihCohortLoss Cohort(Tensor studentLogits, IReadOnlyList<Tensor> branchLogits, Tensor target,
        double alpha = DefaultAlpha, double temperature = DefaultTemperature, bool standardize = false) =>
        Cohort(studentLogits, branchLogits, target, Enumerable.Repeat(alpha, branchLogits.Count).ToArray(), temperature, standardize);

    /// <summary>
    /// The cohort loss: a plain sum of <see cref="Kd"/> over the branches, so the hard-label cross-entropy counts once
    /// per active branch. A branch whose α is exactly 0 is skipped entirely, cross-entropy included, as in the
    /// reference's training loop.
    /// </summary>
    /// <param name="studentLogits">[B, K].</param>
    /// <param name="branchLogits">Index 0 = the teacher's final classifier, 1..k = its intermediate heads; [B, K] each, detached here.</param>
    /// <param name="target">[B] int64 class indices.</param>
    /// <param name="alphas">One α per branch, same indexing.</param>
    /// <param name="temperature">Softening temperature T shared by all branches.</param>
    /// <param name="standardize">Z-score the logits of every KL term (see <see cref="Kd"/>).</param>
    public static DihCohortLoss Cohort(Tensor studentLogits, IReadOnlyList<Tensor> branchLogits, Tensor target,
        IReadOnlyList<double> alphas, double temperature = DefaultTemperature, bool standardize = false)
    {
        if (branchLogits.Count == 0)
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                "DIH got no teacher branches; pass at least the teacher's final-classifier logits as branch 0");
        if (alphas.Count != branchLogits.Count)
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"DIH got {alphas.Count} alpha values for {branchLogits.Count} teacher branches; give one alpha per branch " +
                "(index 0 = final classifier, then the intermediate heads) or a single alpha for all", alphas);
        if (alphas.All(a => a == 0))
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                "every DIH branch has alpha 0, so every branch is skipped and nothing is learned; give at least one branch a non-zero alpha",
                alphas);

        using var scope = NewDisposeScope();
        var perBranch = new Tensor?[branchLogits.Count];
        for (int b = 0; b < branchLogits.Count; b++)
            if (alphas[b] != 0) perBranch[b] = Kd(studentLogits, branchLogits[b], target, alphas[b], temperature, standardize);
        var total = stack(perBranch.OfType<Tensor>()).sum();
        foreach (var branchLoss in perBranch) branchLoss?.MoveToOuterDisposeScope();
        return new DihCohortLoss(total.MoveToOuterDisposeScope(), perBranch);
    }

    /// <summary>
    /// <c>Σ p·(log p − log q) / B</c> with <c>p = softmax(teacher/T)</c>, <c>q = softmax(student/T)</c>. TorchSharp's
    /// kl_div has no batchmean and assumes a log target by default, so it is written out; <c>xlogy</c> keeps a teacher
    /// probability of exactly 0 at a contribution of 0 instead of NaN.
    /// </summary>
    private static Tensor SoftenedKlBatchMean(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        var teacherProbs = softmax(teacherLogits / temperature, 1);
        var studentLogProbs = log_softmax(studentLogits / temperature, 1);
        var perElement = xlogy(teacherProbs, teacherProbs) - teacherProbs * studentLogProbs;
        return perElement.sum() / studentLogits.shape[0];
    }

    private static void RequireSameShape(Tensor student, Tensor other, string what)
    {
        if (!student.shape.SequenceEqual(other.shape))
            throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                $"DIH {what} have shape [{string.Join(", ", other.shape)}] but the student logits have [{string.Join(", ", student.shape)}]; " +
                "every teacher branch must predict the student's classes for the same batch", other.shape);
    }
}
