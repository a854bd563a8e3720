using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>
/// DIST's defaults are the authors' CIFAR-100 configuration: image_classification_sota
/// <c>configs/strategies/distill/dist_cifar.yaml</c> (<c>ori_loss_weight: 1</c>, <c>kd_loss_weight: 2</c>,
/// <c>kd: dist_t4</c>, which <c>lib/models/losses/kd_loss.py</c> turns into <c>DIST(beta=1, gamma=1, tau=4)</c>).
/// </summary>
internal sealed class DistOptions : MethodOptions
{
    [Description("Weight β of the inter-class relation (per-sample Pearson correlation); DIST CIFAR config: kd 'dist_t4' → beta 1.")]
    public double Beta { get; set; } = 1;

    [Description("Weight γ of the intra-class relation (per-class Pearson correlation over the batch); DIST CIFAR config: gamma 1.")]
    public double Gamma { get; set; } = 1;

    [Description("Temperature τ of both softmaxes; both relations are scaled by τ² (DIST CIFAR config: 'dist_t4' → τ 4; ImageNet: 1).")]
    public double Temperature { get; set; } = 4;

    [Description("Weight of the DIST term, β·inter + γ·intra (DIST CIFAR config: kd_loss_weight 2).")]
    public double DistWeight { get; set; } = 2;

    [Description("Weight of the label cross-entropy (DIST CIFAR config: ori_loss_weight 1).")]
    public double CeWeight { get; set; } = 1;

    [Description(Losses.LogitStandardization.OptionDescription)]
    public bool LogitStandardization { get; set; }

    public override void Validate()
    {
        RequireNonNegative(Beta, nameof(Beta));
        RequireNonNegative(Gamma, nameof(Gamma));
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
        RequireNonNegative(DistWeight, nameof(DistWeight));
        RequireNonNegative(CeWeight, nameof(CeWeight));
    }
}

/// <summary>
/// DIST (Huang et al., NeurIPS 2022): instead of matching the teacher's probabilities exactly (KL), the student matches
/// their relations — the Pearson correlation of each sample's class distribution (inter-class) and of each class's
/// distribution over the batch (intra-class) — which tolerates a much stronger teacher.
/// loss = CeWeight·CE + DistWeight·(β·inter + γ·intra).
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
        terms.Add("dist_inter", Options.DistWeight * Options.Beta * parts.Inter, nameof(Options.Beta));
        terms.Add("dist_intra", Options.DistWeight * Options.Gamma * parts.Intra, nameof(Options.Gamma));
    }
}
