using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>DKD's options: mdistiller's CIFAR-100 defaults (<c>mdistiller/engine/cfg.py</c>, <c>CFG.DKD</c>) and its per-pair presets.</summary>
internal sealed class DkdOptions : MethodOptions
{
    private static readonly MethodPreset[] ReferencePresets =
    [
        MethodPreset.Of("resnet56-resnet20", "mdistiller configs/cifar100/dkd/res56_res20.yaml", ("Beta", 2.0)),
        MethodPreset.Of("resnet110-resnet32", "mdistiller configs/cifar100/dkd/res110_res32.yaml", ("Beta", 2.0)),
        MethodPreset.Of("vgg13-vgg8", "mdistiller configs/cifar100/dkd/vgg13_vgg8.yaml", ("Beta", 6.0)),
        MethodPreset.Of("vgg13-MobileNetV2", "mdistiller configs/cifar100/dkd/vgg13_mv2.yaml", ("Beta", 6.0)),
        MethodPreset.Of("wrn_40_2-wrn_16_2", "mdistiller configs/cifar100/dkd/wrn40_2_wrn_16_2.yaml", ("Beta", 6.0)),
        MethodPreset.Of("wrn_40_2-wrn_40_1", "mdistiller configs/cifar100/dkd/wrn40_2_wrn_40_1.yaml", ("Beta", 6.0)),
        MethodPreset.Of("LS", "logit standardisation, sunshangquan/logit-standardization-KD README: --logit-stand --base-temp 2 --kd-weight 9 (α and β times 9)",
            (nameof(LogitStandardization), true), ("Temperature", 2.0), ("Alpha", 9.0), ("Beta", 72.0)),
    ];

    public override IReadOnlyList<MethodPreset> Presets => ReferencePresets;

    [Description("Weight α of TCKD, the KL of the (target, rest) binary probabilities (mdistiller DKD.ALPHA 1).")]
    [LogitKdWeight]
    public double Alpha { get; set; } = DkdLoss.DefaultAlpha;

    [Description("Weight β of NCKD, the KL among the non-target classes (mdistiller DKD.BETA 8; its per-pair configs use 2 or 6, see Preset).")]
    public double Beta { get; set; } = DkdLoss.DefaultBeta;

    [Description("Softmax temperature T of both logits; both parts are scaled by T² (mdistiller DKD.T 4).")]
    public double Temperature { get; set; } = DkdLoss.DefaultTemperature;

    [Description("Weight of the label cross-entropy (mdistiller DKD.CE_WEIGHT 1).")]
    public double CeWeight { get; set; } = 1;

    [Description(EpochWarmup.Description + " mdistiller: DKD.WARMUP 20. Unless given, the Default recipe uses 240: the whole run.")]
    public double WarmupEpochs { get; set; } = 20;

    [Description(EpochWarmup.PerStepDescription)]
    public bool? WarmupPerStep { get; set; }

    [Description(Losses.LogitStandardization.OptionDescription)]
    public bool LogitStandardization { get; set; }

    /// <summary>
    /// A quick run ramps the warm-up step by step and, unless <see cref="WarmupEpochs"/> is given, over the whole run:
    /// mdistiller's 20 of 240 epochs are some 15,600 steps on CIFAR-100, a 3-epoch run's 1/12 a handful, and at full
    /// β = 8 from there DKD left VGG and ShuffleV2 students at chance where CE and KD learn (docs/methods.md, DKD).
    /// </summary>
    protected override void ApplyQuickRunDefaults(IReadOnlySet<string> given)
    {
        WarmupPerStep ??= true;
        if (!given.Contains(nameof(WarmupEpochs))) WarmupEpochs = EpochWarmup.ReferenceEpochs;
    }

    public override void Validate()
    {
        RequireNonNegative(Alpha, nameof(Alpha));
        RequireNonNegative(Beta, nameof(Beta));
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
        RequireNonNegative(CeWeight, nameof(CeWeight));
        Require(WarmupEpochs >= 0, nameof(WarmupEpochs), "must be ≥ 0", WarmupEpochs);
    }
}

/// <summary>
/// Decoupled KD (Zhao et al., CVPR 2022): Hinton's KL split into the target-class part (TCKD, weight α) and the
/// non-target part (NCKD, weight β), so the dark knowledge among wrong classes is no longer damped by the teacher's
/// confidence. loss = CeWeight·CE + warm-up·(α·TCKD + β·NCKD), as mdistiller's DKD distiller.
/// </summary>
[DistillationMethod("DKD", "Decoupled KD: target-class and non-target-class KL weighted separately (α·TCKD + β·NCKD), with a warm-up.",
    Paper = "Zhao, Cui, Song, Qiu, Liang. Decoupled Knowledge Distillation. CVPR 2022")]
internal sealed class DkdMethod(DkdOptions options) : DistillationMethod<DkdOptions>(options)
{
    public override double TaskLossWeight => Options.CeWeight;
    public override IReadOnlyCollection<string> TeacherFeaturesRead => [];

    public override void AddLosses(StepContext step, LossTerms terms)
    {
        bool standardize = Options.LogitStandardization;
        var parts = DkdLoss.Parts(LogitStandardization.ZScoreIf(standardize, step.Student.Logits),
            LogitStandardization.ZScoreIf(standardize, step.RequireTeacher().Logits), step.Labels, Options.Temperature);
        double warmup = EpochWarmup.Factor(step, Options.WarmupEpochs, Options.WarmupPerStep ?? false);
        terms.Add("tckd", warmup * Options.Alpha * parts.TargetClass, nameof(Options.Alpha));
        terms.Add("nckd", warmup * Options.Beta * parts.NonTargetClass, nameof(Options.Beta));
    }
}
