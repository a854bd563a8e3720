using System.Globalization;
using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Evaluation;

/// <summary>What a segmentation network scores on a split.</summary>
/// <param name="Pixels">Labelled pixels counted (ignored pixels are not).</param>
/// <param name="MeanIoU">Mean of <paramref name="ClassIoU"/> over the classes that occur in the labels or the predictions.</param>
/// <param name="PixelAccuracy">Fraction of labelled pixels predicted right.</param>
/// <param name="ClassIoU">Per class TP / (TP + FP + FN); NaN for a class absent from both labels and predictions.</param>
/// <param name="Loss">Mean per-pixel cross-entropy of the upsampled logits.</param>
/// <param name="TeacherAgreement">Fraction of labelled pixels where the prediction equals the teacher's; NaN without a teacher.</param>
public sealed record SegmentationScores(long Pixels, double MeanIoU, double PixelAccuracy, IReadOnlyList<double> ClassIoU,
    double Loss, double TeacherAgreement)
{
    /// <summary>
    /// The per-class IoUs as one compact CSV-friendly string, <c>name=0.912;name=0.455;…</c> with 4 decimals (class
    /// numbers when <paramref name="classNames"/> is null); absent classes are left out.
    /// </summary>
    public string FormatClassIoU(IReadOnlyList<string>? classNames = null) =>
        string.Join(";", ClassIoU.Select((iou, c) => (iou, c)).Where(x => !double.IsNaN(x.iou))
            .Select(x => $"{classNames?[x.c] ?? x.c.ToString(CultureInfo.InvariantCulture)}={x.iou.ToString("0.####", CultureInfo.InvariantCulture)}"));
}

/// <summary>
/// Accumulates a confusion matrix over every labelled pixel of a split, on the evaluation device with one
/// <c>bincount</c> per batch, so the scores cover all test pixels rather than averaging per-image numbers.
/// </summary>
/// <remarks>
/// Logits are resized to the label maps' size (<see cref="SegmentationNet.ResizeLogits"/>) before the argmax. A class
/// that occurs in neither the labels nor the predictions has no IoU and is left out of the mean, as mmsegmentation's
/// <c>nanmean</c> does; the SKD reference's evaluate.py divides by max(1, union) instead and so averages such a class in
/// as 0. On full Cityscapes or VOC validation sets every class occurs and the two agree.
/// </remarks>
internal sealed class SegmentationMetrics : IDisposable
{
    private readonly int _classes;
    private readonly Tensor _confusion;    // [K, K] int64: row = label, column = prediction
    private readonly Tensor _sums;         // float64 [3]: loss sum, teacher agreements, pixels seen with a teacher
    private bool _sawTeacher;

    public SegmentationMetrics(int classes, Device device)
    {
        if (classes is < 2 or > LabelMaps.IgnoreIndex)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"a segmentation task has 2 to {LabelMaps.IgnoreIndex} classes");
        _classes = classes;
        _confusion = zeros([classes, classes], ScalarType.Int64, device);
        _sums = zeros([3], ScalarType.Float64, device);
    }

    /// <summary>Counts one batch. Call under no_grad; the tensors may be freed afterwards.</summary>
    /// <param name="logits">[B, K, h, w].</param>
    /// <param name="labels">int64 [B, H, W], class numbers or <see cref="LabelMaps.IgnoreIndex"/> (any label ≥ K counts nowhere).</param>
    /// <param name="teacherLogits">The teacher's logits for the same images, for the agreement; null without a teacher.</param>
    public void Add(Tensor logits, Tensor labels, Tensor? teacherLogits = null)
    {
        if (logits.dim() != 4 || logits.shape[1] != _classes || labels.dim() != 3 || labels.shape[0] != logits.shape[0])
            throw new ArgumentException($"expected logits [B, {_classes}, h, w] and labels [B, H, W], got " +
                                        $"{ImageSet.FormatShape(logits.shape)} and {ImageSet.FormatShape(labels.shape)}");
        using var scope = NewDisposeScope();
        long height = labels.shape[1], width = labels.shape[2];
        var resized = SegmentationNet.ResizeLogits(logits, height, width);
        var prediction = resized.argmax(1);
        var labelled = labels.lt(_classes);
        var cells = labels.masked_select(labelled) * _classes + prediction.masked_select(labelled);
        _confusion.add_(cells.bincount(null, _classes * _classes).view(_classes, _classes));
        _sums[0].add_(nn.functional.cross_entropy(resized, labels, ignore_index: LabelMaps.IgnoreIndex, reduction: nn.Reduction.Sum));
        if (teacherLogits is not null)
        {
            var teacherPrediction = SegmentationNet.ResizeLogits(teacherLogits, height, width).argmax(1);
            _sums[1].add_(teacherPrediction.eq(prediction).logical_and_(labelled).sum());
            _sums[2].add_(labelled.sum());
            _sawTeacher = true;
        }
    }

    /// <summary>The scores of everything added so far (one copy to the CPU).</summary>
    public SegmentationScores Result()
    {
        var confusion = _confusion.to(CPU).to_type(ScalarType.Float64).data<double>().ToArray();
        var sums = _sums.to(CPU).data<double>().ToArray();
        int k = _classes;
        double pixels = confusion.Sum(), correct = Enumerable.Range(0, k).Sum(c => confusion[c * k + c]);
        var classIoU = Enumerable.Range(0, k).Select(c =>
        {
            double truePositives = confusion[c * k + c];
            double labelledAsC = Enumerable.Range(0, k).Sum(p => confusion[c * k + p]);
            double predictedAsC = Enumerable.Range(0, k).Sum(l => confusion[l * k + c]);
            double union = labelledAsC + predictedAsC - truePositives;
            return union == 0 ? double.NaN : truePositives / union;
        }).ToList();
        var present = classIoU.Where(iou => !double.IsNaN(iou)).ToList();
        return new SegmentationScores((long)pixels,
            present.Count == 0 ? double.NaN : present.Average(),
            pixels == 0 ? double.NaN : correct / pixels,
            classIoU,
            pixels == 0 ? double.NaN : sums[0] / pixels,
            _sawTeacher && sums[2] > 0 ? sums[1] / sums[2] : double.NaN);
    }

    public void Dispose()
    {
        _confusion.Dispose();
        _sums.Dispose();
    }
}
