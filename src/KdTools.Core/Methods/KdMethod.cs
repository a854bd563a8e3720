using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>Hinton KD's options; TAKD's steps use the same ones.</summary>
public class KdOptions : MethodOptions
{
    [Description("Softmax temperature T applied to both logits; the KL term is scaled by T² (Hinton et al.).")]
    public double Temperature { get; set; } = 4;

    [Description("Weight α of the KL term; the label cross-entropy gets 1 − α.")]
    public double Alpha { get; set; } = 0.9;

    public override void Validate()
    {
        base.Validate();
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
        Require(Alpha is >= 0 and <= 1, nameof(Alpha), "must be in [0, 1]", Alpha);
    }
}

/// <summary>Hinton KD: loss = (1 − α)·CE + α·T²·KL(p_teacher ‖ p_student) averaged over the batch.</summary>
[DistillationMethod("KD", "Hinton knowledge distillation: match temperature-softened teacher probabilities (KL, batch mean, ×T²).",
    Paper = "Hinton, Vinyals, Dean. Distilling the Knowledge in a Neural Network. 2015")]
internal sealed class KdMethod(KdOptions options) : DistillationMethod<KdOptions>(options)
{
    public override double TaskLossWeight => 1 - Options.Alpha;

    public override void AddLosses(StepContext step, LossTerms terms) => AddKdTerm(step, terms, Options);

    /// <summary>The weighted KD term, shared with TAKD.</summary>
    internal static void AddKdTerm(StepContext step, LossTerms terms, KdOptions options) =>
        terms.Add("kd", options.Alpha * KdLoss.Compute(step.Student.Logits, step.RequireTeacher().Logits, options.Temperature));
}
