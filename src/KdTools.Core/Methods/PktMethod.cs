using KdTools.Core.Losses;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

internal sealed class PktOptions : FeatureMethodOptions
{
    public PktOptions() => Beta = 30000;
}

/// <summary>
/// Probabilistic knowledge transfer (Passalis &amp; Tefas 2018): turn cosine similarities of the penultimate embeddings
/// into conditional probability distributions and minimise the KL divergence between teacher's and student's.
/// </summary>
[DistillationMethod("PKT", "Probabilistic knowledge transfer: KL between cosine-similarity distributions of the embeddings.",
    Paper = "Passalis, Tefas. Learning Deep Representations with Probabilistic Knowledge Transfer. ECCV 2018")]
internal sealed class PktMethod(PktOptions options) : FeatureDistillationMethod<PktOptions>(options)
{
    public override IReadOnlyCollection<string> TeacherFeaturesRead => [FeatureNames.Embedding];

    public override void Initialize(MethodSetup setup)
    {
        setup.Student(FeatureNames.Embedding);
        setup.Teacher(FeatureNames.Embedding);
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms) =>
        terms.Add("pkt", Options.Beta * PktLoss.Compute(step.Student.Feature(FeatureNames.Embedding), step.RequireTeacher().Feature(FeatureNames.Embedding)));
}
