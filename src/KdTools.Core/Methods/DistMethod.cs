using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>
/// DIST's defaults are the authors' CIFAR-100 configuration: image_classification_sota
/// <c>configs/strategies/distill/dist_cifar.yaml</c> (<c>ori_loss_weight: 1</c>, <c>kd_loss_weight: 2</c>,
/// <c>kd: dist_t4</c>, which <c>lib/models/losses/kd_loss.py</c> turns into <c>DIST(beta=1, gamma=1, tau=4)</c>), with
/// no warm-up. A quick run (the Default recipe) uses τ = 1 and a warm-up over the whole run unless they are given.
/// </summary>
internal sealed class DistOptions : MethodOptions
{
    [Description("Weight β of the inter-class relation (per-sample Pearson correlation); DIST CIFAR config: kd 'dist_t4' → beta 1.")]
    public double Beta { get; set; } = 1;

    [Description("Weight γ of the intra-class relation (per-class Pearson correlation over the batch); DIST CIFAR config: gamma 1.")]
    public double Gamma { get; set; } = 1;

    [Description("Temperature τ of both softmaxes; both relations are scaled by τ² (DIST CIFAR config: 'dist_t4' → τ 4; ImageNet: 1). Unless given, the Default recipe uses 1.")]
    public double Temperature { get; set; } = 4;

    [Description("Weight of the DIST term, β·inter + γ·intra (DIST CIFAR config: kd_loss_weight 2).")]
    public double DistWeight { get; set; } = 2;

    [Description("Weight of the label cross-entropy (DIST CIFAR config: ori_loss_weight 1).")]
    public double CeWeight { get; set; } = 1;

    [Description(EpochWarmup.Description + " The authors' DIST has none (0). Unless given, the Default recipe uses 240: the whole run (a KdTools extension).")]
    public double WarmupEpochs { get; set; }

    [Description(EpochWarmup.PerStepDescription)]
    public bool? WarmupPerStep { get; set; }

    [Description(Losses.LogitStandardization.OptionDescription)]
    public bool LogitStandardization { get; set; }

    /// <summary>
    /// A quick run takes the authors' ImageNet temperature and ramps the term in step by step over the whole run (a
    /// KdTools extension, as DKD's quick warm-up): both relations are Pearson correlations, whose gradient grows as the
    /// student's logits shrink (about τ²·DistWeight/(√C·σ_z) against the label loss's), so at the CIFAR values an
    /// untrained student's small logits on few classes were thrown off in the first steps (docs/methods.md, DIST).
    /// </summary>
    protected override void ApplyQuickRunDefaults(IReadOnlySet<string> given)
    {
        if (!given.Contains(nameof(Temperature))) Temperature = 1;
        if (!given.Contains(nameof(WarmupEpochs))) WarmupEpochs = EpochWarmup.ReferenceEpochs;
        WarmupPerStep ??= true;
    }

    public override void Validate()
    {
        RequireNonNegative(Beta, nameof(Beta));
        RequireNonNegative(Gamma, nameof(Gamma));
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
        RequireNonNegative(DistWeight, nameof(DistWeight));
        RequireNonNegative(CeWeight, nameof(CeWeight));
        Require(WarmupEpochs >= 0, nameof(WarmupEpochs), "must be ≥ 0", WarmupEpochs);
    }
}

/// <summary>
/// DIST (Huang et al., NeurIPS 2022): instead of matching the teacher's probabilities exactly (KL), the student matches
/// their relations — the Pearson correlation of each sample's class distribution (inter-class) and of each class's
/// distribution over the batch (intra-class) — which tolerates a much stronger teacher.
/// loss = CeWeight·CE + warm-up·DistWeight·(β·inter + γ·intra).
/// </summary>
[DistillationMethod("DIST", "DIST: match the Pearson correlations of softened probabilities across classes and across the batch.",
    Paper = "Huang, You, Wang, Qian, Xu. Knowledge Distillation from A Stronger Teacher. NeurIPS 2022")]
internal sealed class DistMethod(DistOptions options) : DistillationMethod<DistOptions>(options)
{
    public override double TaskLossWeight => Options.CeWeight;
    public override IReadOnlyCollection<string> TeacherFeaturesRead => [];

    public override void AddLosses(StepContext step, LossTerms terms)
    {
        bool standardize = Options.LogitStandardization;
        var parts = DistLoss.Parts(LogitStandardization.ZScoreIf(standardize, step.Student.Logits),
            LogitStandardization.ZScoreIf(standardize, step.RequireTeacher().Logits), Options.Temperature);
        double weight = Options.DistWeight * EpochWarmup.Factor(step, Options.WarmupEpochs, Options.WarmupPerStep ?? false);
        terms.Add("dist_inter", weight * Options.Beta * parts.Inter, nameof(Options.Beta));
        terms.Add("dist_intra", weight * Options.Gamma * parts.Intra, nameof(Options.Gamma));
    }
}
