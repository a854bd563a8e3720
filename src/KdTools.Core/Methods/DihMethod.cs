using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

internal sealed class DihOptions : MethodOptions
{
    [Description("Temperature T shared by every branch (DIH reference: 5).")]
    public double Temperature { get; set; } = DihLoss.DefaultTemperature;

    [Description("α of each branch's KD loss: one value for all, or one per branch (final classifier first, then the heads shallow to deep). A branch with α = 0 is skipped.")]
    public double[] Alpha { get; set; } = [DihLoss.DefaultAlpha];

    [Description(Losses.LogitStandardization.OptionDescription + " The cross-entropy of each branch keeps the raw logits.")]
    public bool LogitStandardization { get; set; }

    public override void Validate()
    {
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
        Require(Alpha.Length > 0 && Alpha.All(a => a is >= 0 and <= 1), nameof(Alpha), "needs values in [0, 1]", Alpha);
        Require(Alpha.Any(a => a > 0), nameof(Alpha), "needs at least one branch with α > 0", Alpha);
    }
}

/// <summary>
/// DIH (Asadian et al.): the teacher's final classifier and its intermediate heads (Add-IntermediateHead) co-teach the
/// student; loss = Σ over active branches of α_b·T²·KL_batchmean + (1 − α_b)·CE, so CE counts once per branch.
/// </summary>
[DistillationMethod("DIH", "Distillation via intermediate heads: the teacher's final classifier and its fine-tuned stage heads co-teach the student.",
    Paper = "Aryan Asadian, Amirali Salehi-Abari. Distilling Knowledge via Intermediate Classifiers. 2021")]
internal sealed class DihMethod(DihOptions options) : DistillationMethod<DihOptions>(options)
{
    private int _branches;

    /// <summary>The label cross-entropy is part of every branch's loss.</summary>
    public override double TaskLossWeight => 0;

    public override void Initialize(MethodSetup setup)
    {
        var heads = setup.TeacherExits;
        if (heads.Count == 0)
            throw new KdException(KdErrorIds.MethodNeedsTeacherHeads, KdErrorKind.InvalidArgument,
                "DIH needs a teacher with intermediate heads, and this teacher has none; mount heads on it and train them first " +
                "(HeadFineTuning), then distill from the teacher with its heads");
        _branches = 1 + heads.Count;
        if (Options.Alpha.Length != 1 && Options.Alpha.Length != _branches)
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"option Alpha has {Options.Alpha.Length} values but the teacher has {_branches} branches (final, {string.Join(", ", heads)}); give one value or {_branches}", nameof(DihOptions.Alpha));
    }

    public override void AddLosses(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        var names = teacher.Exits.Keys.Prepend("final").ToList();
        var branches = teacher.Exits.Values.Prepend(teacher.Logits).ToList();
        var alphas = Options.Alpha.Length == 1 ? Enumerable.Repeat(Options.Alpha[0], branches.Count).ToArray() : Options.Alpha;
        var cohort = DihLoss.Cohort(step.Student.Logits, branches, step.Labels, alphas, Options.Temperature, Options.LogitStandardization);
        for (int b = 0; b < names.Count; b++)
            if (cohort.PerBranch[b] is { } loss) terms.Add($"dih_{names[b]}", loss);
    }
}
