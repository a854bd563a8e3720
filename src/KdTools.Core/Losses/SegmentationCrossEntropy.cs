using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>The segmentation task loss: per-pixel cross-entropy of the upsampled logits, ignored pixels left out.</summary>
internal static class SegmentationCrossEntropy
{
    /// <summary>
    /// Mean cross-entropy over the pixels of <paramref name="labels"/> whose label is not
    /// <see cref="LabelMaps.IgnoreIndex"/>, with <paramref name="logits"/> resized bilinearly to the labels' size first
    /// (<see cref="SegmentationNet.ResizeLogits"/>). PyTorch's <c>cross_entropy(ignore_index=255)</c>, except that a
    /// batch with no labelled pixel gives 0 (a crop that fell entirely on padding) instead of NaN.
    /// </summary>
    /// <param name="logits">[B, K, h, w].</param>
    /// <param name="labels">int64 [B, H, W], class numbers or 255.</param>
    public static Tensor Compute(Tensor logits, Tensor labels)
    {
        if (logits.dim() != 4 || labels.dim() != 3 || logits.shape[0] != labels.shape[0])
            throw LossShapeChecks.Mismatch("segmentation cross-entropy",
                $"expects logits [B, K, h, w] and label maps [B, H, W] of one batch, got [{string.Join(", ", logits.shape)}] and [{string.Join(", ", labels.shape)}]");
        using var scope = NewDisposeScope();
        var resized = SegmentationNet.ResizeLogits(logits, labels.shape[1], labels.shape[2]);
        var total = nn.functional.cross_entropy(resized, labels, ignore_index: LabelMaps.IgnoreIndex, reduction: nn.Reduction.Sum);
        var labelled = labels.ne(LabelMaps.IgnoreIndex).sum().clamp_min(1);
        return (total / labelled).MoveToOuterDisposeScope();
    }
}
