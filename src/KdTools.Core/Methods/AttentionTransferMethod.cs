using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

internal sealed class AttentionTransferOptions : FeatureMethodOptions
{
    public AttentionTransferOptions() => Beta = 1000;

    [Description("Exponent p of the attention map mean_c(|f|^p).")]
    public double P { get; set; } = 2;

    public override void Validate()
    {
        base.Validate();
        Require(P > 0, nameof(P), "must be > 0", P);
    }
}

/// <summary>
/// Attention transfer (Zagoruyko &amp; Komodakis 2017): match the L2-normalised spatial attention maps of every stage
/// pair; maps of different size are pooled to the smaller one. Loss = β·Σ_stages mean((a_s − a_t)²).
/// </summary>
[DistillationMethod("AT", "Attention transfer: match normalised spatial attention maps of every stage pair.",
    Paper = "Zagoruyko, Komodakis. Paying More Attention to Attention. ICLR 2017")]
internal sealed class AttentionTransferMethod(AttentionTransferOptions options) : FeatureDistillationMethod<AttentionTransferOptions>(options)
{
    private int[] _stages = [];

    public override void Initialize(MethodSetup setup) => _stages = StageFeatures.Pairs(setup, Name);

    /// <summary>The paired stages' outputs (known once initialised).</summary>
    public override IReadOnlyCollection<string>? TeacherFeaturesRead => _stages.Length == 0 ? null : _stages.Select(FeatureNames.Stage).ToArray();

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        var losses = AttentionTransferLoss.ComputeLayers(StageFeatures.Collect(step.Student, _stages), StageFeatures.Collect(teacher, _stages), Options.P);
        terms.Add("at", Options.Beta * TorchSharp.torch.stack(losses).sum());
    }
}
