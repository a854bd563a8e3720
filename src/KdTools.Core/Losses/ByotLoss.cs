using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>Hyper-parameters of <see cref="ByotLoss"/>; the defaults are the official code's.</summary>
internal sealed class ByotLossOptions
{
    /// <summary>Softening temperature of the deepest classifier's targets (no T² factor is applied).</summary>
    public double Temperature { get; init; } = 3;

    /// <summary>Weight of each shallow head's soft cross-entropy; its hard-label cross-entropy gets 1 − this.</summary>
    public double LossCoefficient { get; init; } = 0.3;

    /// <summary>Weight of each feature distance.</summary>
    public double FeatureLossCoefficient { get; init; } = 0.03;
}

/// <summary>One shallow head's unweighted loss parts.</summary>
/// <param name="Head">Head index, 1 = second-deepest.</param>
/// <param name="SoftCrossEntropy">Cross-entropy against the deepest classifier's softened output.</param>
/// <param name="CrossEntropy">Hard-label cross-entropy.</param>
/// <param name="FeatureDistance">L2 distance to the deepest feature; null for a head without a feature term.</param>
internal sealed record ByotHeadLoss(int Head, Tensor SoftCrossEntropy, Tensor CrossEntropy, Tensor? FeatureDistance);

/// <summary>The BYOT loss of one step: <see cref="Total"/> to backpropagate, and its unweighted parts for logging.</summary>
internal sealed record ByotLossParts(Tensor Total, Tensor DeepestCrossEntropy, IReadOnlyList<ByotHeadLoss> Heads);

/// <summary>
/// Be Your Own Teacher (Zhang et al., official code): the deepest classifier of a multi-exit network teaches the
/// shallower ones through softened logits, and adaptation layers pull their features towards its feature.
/// </summary>
internal static class ByotLoss
{
    /// <summary>
    /// Whether head <paramref name="head"/> (0 = deepest) gets a feature term. The official training loop skips head 1,
    /// the second-deepest, although it builds an adaptation layer for it.
    /// </summary>
    public static bool HasFeatureTerm(int head) => head >= 2;

    /// <summary>
    /// <c>CE(logits₀, y) + Σᵢ≥₁ [c·SoftCE_T(logitsᵢ, logits₀) + (1 − c)·CE(logitsᵢ, y)] + Σᵢ≥₂ c_f·‖adaptedᵢ − feature₀‖₂</c>,
    /// where SoftCE_T is the batch mean of <c>−Σ softmax(logits₀/T)·log_softmax(logitsᵢ/T)</c> and the norm runs
    /// over the whole batch, unsquared. The targets <c>logits₀</c> and <c>feature₀</c> are detached here.
    /// </summary>
    /// <param name="logits">Per head, [B, K]; index 0 is the deepest classifier.</param>
    /// <param name="deepestFeature">The deepest classifier's feature, [B, D₀].</param>
    /// <param name="adaptedFeatures">
    /// Per head, same indexing as <paramref name="logits"/>: the head's flattened feature after its adaptation layer
    /// (<c>Linear(Dᵢ, D₀)</c>), [B, D₀], where <see cref="HasFeatureTerm"/> holds, and null elsewhere (always at 0).
    /// </param>
    /// <param name="labels">[B] int64 class indices.</param>
    /// <param name="options">Temperature and term weights.</param>
    public static ByotLossParts Compute(IReadOnlyList<Tensor> logits, Tensor deepestFeature,
        IReadOnlyList<Tensor?> adaptedFeatures, Tensor labels, ByotLossOptions options)
    {
        Validate(logits, deepestFeature, adaptedFeatures);
        using var scope = NewDisposeScope();
        var softTargets = softmax(logits[0].detach() / options.Temperature, 1);
        var featureTarget = deepestFeature.detach();

        var deepestCe = cross_entropy(logits[0], labels);
        var total = deepestCe;
        var heads = new List<ByotHeadLoss>(logits.Count - 1);
        for (int i = 1; i < logits.Count; i++)
        {
            var softCe = -(softTargets * log_softmax(logits[i] / options.Temperature, 1)).sum(1).mean();
            var ce = cross_entropy(logits[i], labels);
            total = total + softCe * options.LossCoefficient + ce * (1 - options.LossCoefficient);
            // linalg's norm backward gives 0 at a zero difference where a hand-written sqrt(sum(d²)) would give NaN.
            var distance = adaptedFeatures[i] is { } adapted ? linalg.vector_norm(adapted - featureTarget) : null;
            if (distance is not null) total = total + distance * options.FeatureLossCoefficient;
            heads.Add(new ByotHeadLoss(i, softCe.MoveToOuterDisposeScope(), ce.MoveToOuterDisposeScope(), distance?.MoveToOuterDisposeScope()));
        }
        return new ByotLossParts(total.MoveToOuterDisposeScope(), deepestCe.MoveToOuterDisposeScope(), heads);
    }

    private static void Validate(IReadOnlyList<Tensor> logits, Tensor deepestFeature, IReadOnlyList<Tensor?> adaptedFeatures)
    {
        if (logits.Count < 2)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"BYOT needs the deepest classifier and at least one shallower head, got {logits.Count} logits tensor(s); use a model with exit heads");
        if (adaptedFeatures.Count != logits.Count)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"BYOT got {adaptedFeatures.Count} adapted-feature entries for {logits.Count} heads; pass one entry per head, null where a head has no feature term");
        for (int i = 0; i < logits.Count; i++)
        {
            var adapted = adaptedFeatures[i];
            if (HasFeatureTerm(i) != adapted is not null)
                throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                    HasFeatureTerm(i)
                        ? $"BYOT head {i} has a feature term but no adapted feature was given; pass its feature after its adaptation layer"
                        : $"BYOT head {i} has no feature term (the deepest classifier and head 1 never do) but an adapted feature was given; pass null there",
                    i);
            if (adapted is not null && !adapted.shape.SequenceEqual(deepestFeature.shape))
                throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                    $"BYOT head {i}'s adapted feature has shape [{string.Join(", ", adapted.shape)}] but the deepest feature has " +
                    $"[{string.Join(", ", deepestFeature.shape)}]; its adaptation layer must map to the deepest feature's width", i);
        }
    }
}
