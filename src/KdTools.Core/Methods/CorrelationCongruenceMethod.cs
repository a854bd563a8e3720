using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;

namespace KdTools.Core.Methods;

public sealed class CorrelationCongruenceOptions : FeatureMethodOptions
{
    public CorrelationCongruenceOptions() => Beta = 0.02;

    [Description("Kernel: 'gaussian' (the paper's RBF kernel by its Taylor expansion) or 'repdistiller' (the reference code's consecutive-pair product).")]
    public string Kernel { get; set; } = "gaussian";

    [Description("γ of the Gaussian kernel exp(−γ‖a − b‖²).")]
    public double Gamma { get; set; } = CorrelationCongruenceLoss.DefaultGamma;

    [Description("Order P of the Taylor expansion.")]
    public int TaylorOrder { get; set; } = CorrelationCongruenceLoss.DefaultTaylorOrder;

    [Description("Width of the embedding both penultimate features are projected to.")]
    public int EmbeddingSize { get; set; } = 128;

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
/// both penultimate embeddings go through linear embedding heads, and their batch correlation matrices (a Gaussian
/// kernel) are matched. The reference code (RepDistiller) uses a different, cheaper correlation; both are options.
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
