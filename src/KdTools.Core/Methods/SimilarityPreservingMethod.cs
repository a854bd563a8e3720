using KdTools.Core.Losses;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

internal sealed class SimilarityPreservingOptions : FeatureMethodOptions
{
    public SimilarityPreservingOptions() => Beta = 3000;
}

/// <summary>
/// Similarity-preserving KD (Tung &amp; Mori 2019): the student's batch similarity matrix (row-normalised G = F·Fᵀ of the
/// last stage's flattened features) should match the teacher's. Loss = β·‖G_s − G_t‖²_F / B².
/// </summary>
[DistillationMethod("SP", "Similarity-preserving KD: match the batch's pairwise similarity matrices of the last stage.",
    Paper = "Tung, Mori. Similarity-Preserving Knowledge Distillation. ICCV 2019")]
internal sealed class SimilarityPreservingMethod(SimilarityPreservingOptions options) : FeatureDistillationMethod<SimilarityPreservingOptions>(options)
{
    private string _feature = "";

    public override void Initialize(MethodSetup setup) => _feature = FeatureNames.Stage(StageFeatures.Pairs(setup, Name)[^1]);

    /// <summary>The last stage's output (known once initialised).</summary>
    public override IReadOnlyCollection<string>? TeacherFeaturesRead => _feature.Length == 0 ? null : [_feature];

    protected override void AddMethodLosses(StepContext step, LossTerms terms) =>
        terms.Add("sp", Options.Beta * SimilarityPreservingLoss.Compute(step.Student.Feature(_feature), step.RequireTeacher().Feature(_feature)));
}
