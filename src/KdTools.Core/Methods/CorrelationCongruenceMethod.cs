using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;

namespace KdTools.Core.Methods;

internal sealed class CorrelationCongruenceOptions : FeatureMethodOptions
{
    /// <summary>RepDistiller's weight (<c>-b 0.02</c>), tuned for its own correlation, the default kernel.</summary>
    public CorrelationCongruenceOptions() => Beta = 0.02;

    [Description("Kernel: 'repdistiller' (default; the correlation of RepDistiller's CC.py, whose script sets β = 0.02) or " +
                 "'gaussian' (the paper's RBF kernel by its Taylor expansion). The Gaussian term is about 10⁻⁴ of the " +
                 "cross-entropy at β = 0.02 and no reference gives its weight, so choosing it needs an explicit Beta.")]
    public string Kernel { get; set; } = "repdistiller";

    [Description("γ of the Gaussian kernel exp(−γ‖a − b‖²).")]
    public double Gamma { get; set; } = CorrelationCongruenceLoss.DefaultGamma;

    [Description("Order P of the Taylor expansion.")]
    public int TaylorOrder { get; set; } = CorrelationCongruenceLoss.DefaultTaylorOrder;

    [Description("Width of the embedding both penultimate features are projected to.")]
    public int EmbeddingSize { get; set; } = 128;

    /// <summary>
    /// The Gaussian kernel at the default β would train like the CE baseline (its term is four orders of magnitude
    /// below the cross-entropy), and no reference gives a weight for it: it needs the caller's Beta.
    /// </summary>
    protected internal override void ApplyDependentDefaults(IReadOnlySet<string> given)
    {
        if (Kernel == "gaussian" && !given.Contains(nameof(Beta)))
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                "CC's Gaussian kernel has no reference weight: at the default β = 0.02 (RepDistiller's, tuned for its own " +
                "kernel) its term is about 10⁻⁴ of the cross-entropy and the student trains like the CE baseline; give Beta " +
                "with Kernel = 'gaussian' (a value that makes the cc term a few percent of ce), or keep Kernel = 'repdistiller'",
                nameof(Beta));
    }

    public override void Validate()
    {
        base.Validate();
        Require(Kernel is "gaussian" or "repdistiller", nameof(Kernel), "must be 'gaussian' or 'repdistiller'", Kernel);
        Require(Gamma > 0, nameof(Gamma), "must be > 0", Gamma);
        Require(TaylorOrder >= 0, nameof(TaylorOrder), "must be ≥ 0", TaylorOrder);
        Require(EmbeddingSize >= 1, nameof(EmbeddingSize), "must be ≥ 1", EmbeddingSize);
    }
}

/// <summary>
/// Correlation congruence (Peng et al. 2019): beyond instance matching, match the correlation between instances:
/// both penultimate embeddings go through linear embedding heads and their batch correlations are matched. The default
/// is RepDistiller's correlation with its weight β = 0.02; the paper's Gaussian kernel is an option that needs its own β.
/// </summary>
[DistillationMethod("CC", "Correlation congruence: match the batch's instance-correlation matrices of embedded features.",
    Paper = "Peng et al. Correlation Congruence for Knowledge Distillation. ICCV 2019")]
internal sealed class CorrelationCongruenceMethod(CorrelationCongruenceOptions options) : FeatureDistillationMethod<CorrelationCongruenceOptions>(options)
{
    private EmbeddingHead? _studentEmbed, _teacherEmbed;

    public override void Initialize(MethodSetup setup)
    {
        _studentEmbed = new EmbeddingHead(setup.Student(FeatureNames.Embedding)[1], Options.EmbeddingSize, normalize: false);
        _teacherEmbed = new EmbeddingHead(setup.Teacher(FeatureNames.Embedding)[1], Options.EmbeddingSize, normalize: false);
        Extras = torch.nn.ModuleDict<torch.nn.Module>(("embed_s", _studentEmbed), ("embed_t", _teacherEmbed));
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var s = _studentEmbed!.call(step.Student.Feature(FeatureNames.Embedding));
        var t = _teacherEmbed!.call(step.RequireTeacher().Feature(FeatureNames.Embedding));
        var loss = Options.Kernel == "gaussian"
            ? CorrelationCongruenceLoss.Compute(s, t, Options.Gamma, Options.TaylorOrder)
            : CorrelationCongruenceLoss.ComputeRepDistiller(s, t);
        terms.Add("cc", Options.Beta * loss);
    }
}
