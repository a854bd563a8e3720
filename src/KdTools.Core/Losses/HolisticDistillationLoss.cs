using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>The adversarial objective of SKD's holistic term (the official code's <c>--adv-loss-type</c>).</summary>
internal enum AdversarialLoss
{
    /// <summary>WGAN-GP (the default): the critic minimises mean D(S) − mean D(T) plus the gradient penalty.</summary>
    Wasserstein,

    /// <summary>Hinge: the critic minimises mean relu(1 + D(S)) + mean relu(1 − D(T)); no gradient penalty.</summary>
    Hinge,
}

/// <summary>
/// SKD's holistic distillation (Liu et al., official code): a critic D learns to tell the teacher's score maps
/// ("real") from the student's ("fake"), and the student learns to raise D on its own maps. These are the unweighted
/// pieces; the official objectives are critic: λ_d·(<see cref="Critic"/> + λ_gp·<see cref="GradientPenalty"/>) and
/// student: λ_d·<see cref="Student"/>, with λ_d = 0.1 and λ_gp = 10 (the code scales the penalty by λ_d too).
/// </summary>
internal static class HolisticDistillationLoss
{
    /// <summary>The critic's loss from its score maps of the student's and the teacher's logits (any shape, equal).</summary>
    public static Tensor Critic(Tensor criticOnStudent, Tensor criticOnTeacher, AdversarialLoss kind)
    {
        LossShapeChecks.SameShape("holistic critic loss", criticOnStudent, criticOnTeacher);
        using var scope = NewDisposeScope();
        var loss = kind == AdversarialLoss.Wasserstein
            ? criticOnStudent.mean() - criticOnTeacher.mean()
            : nn.functional.relu(1 + criticOnStudent).mean() + nn.functional.relu(1 - criticOnTeacher).mean();
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The student's adversarial loss, −mean D(S), for both objectives (the reference's CriterionAdvForG).</summary>
    public static Tensor Student(Tensor criticOnStudent) => criticOnStudent.mean().neg();

    /// <summary>
    /// WGAN-GP's penalty mean((‖∇ₓ D(x)‖₂ − 1)²) at x = α·teacher + (1 − α)·student with one α ~ U(0, 1) per sample from
    /// <paramref name="random"/>; both inputs are detached, and the penalty's graph is kept so the critic can learn from it.
    /// </summary>
    /// <param name="critic">The critic value map of a batch of inputs (for example <c>x => critic.Score(x)</c>).</param>
    /// <param name="teacherScores">[N, …].</param>
    /// <param name="studentScores">Same shape.</param>
    public static Tensor GradientPenalty(Func<Tensor, Tensor> critic, Tensor teacherScores, Tensor studentScores, Generator random)
    {
        using var scope = NewDisposeScope();
        var alpha = MixingWeights(teacherScores, random);
        return GradientPenalty(critic, teacherScores, studentScores, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The per-sample weights α ~ U(0, 1) of the interpolates, shaped [N, 1, …] like <paramref name="teacherScores"/>,
    /// drawn on the CPU from <paramref name="random"/> in the default dtype and then moved to the scores' dtype and device.
    /// </summary>
    public static Tensor MixingWeights(Tensor teacherScores, Generator random)
    {
        var shape = new long[teacherScores.dim()];
        Array.Fill(shape, 1L);
        shape[0] = teacherScores.shape[0];
        using var scope = NewDisposeScope();
        return rand(shape, generator: random).to(teacherScores.dtype).to(teacherScores.device).MoveToOuterDisposeScope();
    }

    /// <summary>The gradient penalty at the interpolates of the given per-sample weights <paramref name="alpha"/> [N, 1, …].</summary>
    public static Tensor GradientPenalty(Func<Tensor, Tensor> critic, Tensor teacherScores, Tensor studentScores, Tensor alpha)
    {
        LossShapeChecks.SameShape("gradient penalty", studentScores, teacherScores);
        using var scope = NewDisposeScope();
        long batch = teacherScores.shape[0];
        var interpolated = (alpha * teacherScores.detach() + (1 - alpha) * studentScores.detach()).requires_grad_(true);
        var output = critic(interpolated);
        var gradient = autograd.grad([output], [interpolated], [ones_like(output)], retain_graph: true, create_graph: true)[0];
        var norm = gradient.reshape(batch, -1).square().sum(1).sqrt();
        return (norm - 1).square().mean().MoveToOuterDisposeScope();
    }
}
