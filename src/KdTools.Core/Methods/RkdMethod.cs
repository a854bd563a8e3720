using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

internal sealed class RkdOptions : FeatureMethodOptions
{
    public RkdOptions() => Beta = 1;

    [Description("Weight of the distance term (w_d).")]
    public double DistanceWeight { get; set; } = 25;

    [Description("Weight of the angle term (w_a).")]
    public double AngleWeight { get; set; } = 50;

    public override void Validate()
    {
        base.Validate();
        Require(DistanceWeight >= 0, nameof(DistanceWeight), "must be ≥ 0", DistanceWeight);
        Require(AngleWeight >= 0, nameof(AngleWeight), "must be ≥ 0", AngleWeight);
    }
}

/// <summary>
/// Relational KD (Park et al. 2019): match normalised pairwise distances and triplet angles of the batch's pooled
/// penultimate embeddings (not flattened conv maps, whose angle term needs B×B×D memory).
/// </summary>
[DistillationMethod("RKD", "Relational KD: match pairwise distances and angles of the penultimate embeddings.",
    Paper = "Park et al. Relational Knowledge Distillation. CVPR 2019")]
internal sealed class RkdMethod(RkdOptions options) : FeatureDistillationMethod<RkdOptions>(options)
{
    public override IReadOnlyCollection<string> TeacherFeaturesRead => [FeatureNames.Embedding];

    public override void Initialize(MethodSetup setup)
    {
        setup.Student(FeatureNames.Embedding);
        setup.Teacher(FeatureNames.Embedding);
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var rkd = RkdLoss.Compute(step.Student.Feature(FeatureNames.Embedding), step.RequireTeacher().Feature(FeatureNames.Embedding),
            Options.DistanceWeight, Options.AngleWeight);
        terms.Add("rkd_distance", Options.Beta * Options.DistanceWeight * rkd.Distance, nameof(Options.DistanceWeight));
        terms.Add("rkd_angle", Options.Beta * Options.AngleWeight * rkd.Angle, nameof(Options.AngleWeight));
    }
}
