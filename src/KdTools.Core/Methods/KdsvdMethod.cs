using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

/// <summary>KDSVD's options: mdistiller's <c>CFG.KDSVD</c> (k 1, feature weight 1) and the matrix layout.</summary>
internal sealed class KdsvdOptions : FeatureMethodOptions
{
    public KdsvdOptions() => Beta = 1;

    [Description("Singular vectors per stage (mdistiller KDSVD.K 1); the student offers k + 3 candidates for the alignment.")]
    public int K { get; set; } = SvdDistillationLoss.DefaultK;

    [Description("How a stage map becomes a matrix: Channels ((H·W)×C, vectors over channels, as RepDistiller and the authors' TensorFlow code) or Width ((C·H)×W, mdistiller's view).")]
    public SvdLayout Layout { get; set; } = SvdLayout.Channels;

    public override void Validate()
    {
        base.Validate();
        Require(K >= 1, nameof(K), "must be ≥ 1", K);
    }
}

/// <summary>
/// KD with singular value decomposition (Lee, Kim, Song, ECCV 2018): the leading right singular vectors of every stage
/// summarise its feature map; Gaussian-kernel relations between consecutive stages' vectors, sign-aligned to the
/// teacher, are matched. loss = CE + β·Σ relations / B, as mdistiller's KDSVD distiller.
/// </summary>
[DistillationMethod("KDSVD", "SVD-based KD: match Gaussian-kernel relations between consecutive stages' leading singular vectors.",
    Paper = "Lee, Kim, Song. Self-supervised Knowledge Distillation Using Singular Value Decomposition. ECCV 2018")]
internal sealed class KdsvdMethod(KdsvdOptions options) : FeatureDistillationMethod<KdsvdOptions>(options)
{
    private int[] _stages = [];

    public override void Initialize(MethodSetup setup)
    {
        _stages = StageFeatures.Pairs(setup, Name);
        if (_stages.Length < 2)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument, "KDSVD relates consecutive stages and needs at least two");
        int dimension = Options.Layout == SvdLayout.Channels ? 1 : 3;
        var mismatched = _stages.Select(FeatureNames.Stage).Where(f => setup.Student(f)[dimension] != setup.Teacher(f)[dimension])
            .Select(f => $"{f}: {setup.Student(f)[dimension]} vs {setup.Teacher(f)[dimension]}").ToList();
        if (mismatched.Count > 0)
            throw new KdException(KdErrorIds.FeatureShapeMismatch, KdErrorKind.InvalidArgument,
                $"KDSVD with Layout {Options.Layout} compares singular vectors over the {(dimension == 1 ? "channels" : "width")} of each stage, which student and teacher must share, but they differ ({string.Join("; ", mismatched)}); pick architectures of equal {(dimension == 1 ? "widths" : "map sizes")} or another method",
                string.Join(", ", mismatched));
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms) =>
        terms.Add("kdsvd", Options.Beta * SvdDistillationLoss.Compute(StageFeatures.Collect(step.Student, _stages),
            StageFeatures.Collect(step.RequireTeacher(), _stages), Options.K, Options.Layout));
}
