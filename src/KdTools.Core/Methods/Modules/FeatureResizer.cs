using KdTools.Core.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// TOFD's feature-resizing layer: a bias-free linear map from a student feature width to the teacher's. Its
/// orthogonality penalty keeps the map close to norm-preserving, so resizing loses little of the student's feature.
/// </summary>
internal sealed class FeatureResizer : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear;

    public FeatureResizer(long studentWidth, long teacherWidth) : base(nameof(FeatureResizer))
    {
        linear = nn.Linear(studentWidth, teacherWidth, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor feature) => linear.call(feature);

    public Tensor OrthogonalityPenalty() => Orthogonality(linear.weight!);

    /// <summary>
    /// <c>‖W·Wᵀ − I‖_F + ‖Wᵀ·W − I‖_F</c> for a [out, in] weight, both Frobenius norms unsquared, as the official
    /// TOFD training script adds them (the repository's unused <c>get_orth_loss</c> squares them instead).
    /// Zero only for a square orthogonal W; a non-square W with orthonormal rows or columns leaves |out − in|^½ in one term.
    /// </summary>
    public static Tensor Orthogonality(Tensor weight)
    {
        LossShapeChecks.Rank("TOFD orthogonality", weight, 2, "[out, in]");
        using var scope = torch.NewDisposeScope();
        var rows = torch.eye(weight.shape[0], dtype: weight.dtype, device: weight.device);
        var columns = torch.eye(weight.shape[1], dtype: weight.dtype, device: weight.device);
        var penalty = (weight.mm(weight.t()) - rows).norm() + (weight.t().mm(weight) - columns).norm();
        return penalty.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// TOFD's feature loss: the Euclidean distance between the resized student and the teacher features over the whole
    /// [B, D] batch (<c>torch.dist(·, ·, p=2)</c> in the reference; neither squared nor averaged, so it grows with √B).
    /// </summary>
    public static Tensor Distance(Tensor resizedStudent, Tensor teacher)
    {
        LossShapeChecks.SameShape("TOFD feature", resizedStudent, teacher);
        return (resizedStudent - teacher).norm();
    }
}
