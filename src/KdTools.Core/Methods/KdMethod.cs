using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>Hinton KD's options; TAKD's steps use the same ones.</summary>
internal class KdOptions : MethodOptions
{
    private static readonly MethodPreset[] ReferencePresets =
    [
        MethodPreset.Of("LS", "logit standardisation, sunshangquan/logit-standardization-KD README: --logit-stand --base-temp 2 --kd-weight 9, KD.LOSS.CE_WEIGHT 0.1",
            (nameof(LogitStandardization), true), (nameof(Temperature), 2.0), (nameof(Alpha), 9.0), (nameof(CeWeight), 0.1)),
    ];

    public override IReadOnlyList<MethodPreset> Presets => ReferencePresets;

    [Description("Softmax temperature T applied to both logits; the KL term is scaled by T² (Hinton et al.).")]
    public double Temperature { get; set; } = 4;

    [Description("Weight α of the KL term; the label cross-entropy gets 1 − α unless CeWeight is set.")]
    [LogitKdWeight]
    public double Alpha { get; set; } = 0.9;

    [Description("Weight of the label cross-entropy; empty = 1 − α (Hinton's convex mix). Set it to weigh the two terms independently, as RepDistiller's -r/-a and the logit-standardisation authors (CE 0.1, KD 9) do.")]
    public double? CeWeight { get; set; }

    [Description(Losses.LogitStandardization.OptionDescription)]
    public bool LogitStandardization { get; set; }

    public override void Validate()
    {
        base.Validate();
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
        if (CeWeight is { } ce)
        {
            RequireNonNegative(ce, nameof(CeWeight));
            RequireNonNegative(Alpha, nameof(Alpha));
        }
        else
        {
            Require(Alpha is >= 0 and <= 1, nameof(Alpha), "must be in [0, 1] (set CeWeight to weigh the KL term by more than 1)", Alpha);
        }
    }

    /// <summary>The label cross-entropy's weight: <see cref="CeWeight"/>, or 1 − α.</summary>
    internal double TaskLossWeight => CeWeight ?? 1 - Alpha;
}

/// <summary>Hinton KD: loss = (1 − α)·CE + α·T²·KL(p_teacher ‖ p_student) averaged over the batch.</summary>
[DistillationMethod("KD", "Hinton knowledge distillation: match temperature-softened teacher probabilities (KL, batch mean, ×T²).",
    Paper = "Hinton, Vinyals, Dean. Distilling the Knowledge in a Neural Network. 2015")]
internal sealed class KdMethod(KdOptions options) : DistillationMethod<KdOptions>(options)
{
    public override double TaskLossWeight => Options.TaskLossWeight;
    public override IReadOnlyCollection<string> TeacherFeaturesRead => [];

    public override void AddLosses(StepContext step, LossTerms terms) => AddKdTerm(step, terms, Options);

    /// <summary>The weighted KD term, shared with TAKD; on z-scored logits with <see cref="KdOptions.LogitStandardization"/>.</summary>
    internal static void AddKdTerm(StepContext step, LossTerms terms, KdOptions options)
    {
        bool standardize = options.LogitStandardization;
        terms.Add("kd", options.Alpha * KdLoss.Compute(LogitStandardization.ZScoreIf(standardize, step.Student.Logits),
            LogitStandardization.ZScoreIf(standardize, step.RequireTeacher().Logits), options.Temperature), nameof(options.Alpha));
    }
}
