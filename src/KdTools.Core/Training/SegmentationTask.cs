using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Losses;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// Semantic segmentation: uint8 label maps [B, H, W] scaled, cropped and flipped with their images
/// (<see cref="TrainingSettings.SegmentationAugmentation"/>), the heads' dropout drawn from the step's generator,
/// per-pixel cross-entropy of the upsampled logits, and mean IoU as the score.
/// </summary>
internal sealed class SegmentationTask : ITrainingTask
{
    public static SegmentationTask Instance { get; } = new();

    public string ScoreMetric => MetricNames.MeanIoU;

    public (Tensor Inputs, Tensor Labels) Prepare(Batch batch, InputNormalization normalization, TrainingSettings settings,
        Generator random, Device device)
    {
        var (images, labels) = SegmentationBatchAugmentation.Prepare(batch.Images, batch.Labels, normalization.Mean, normalization.Std,
            settings.SegmentationAugmentation, random);
        return (images.to(device), labels.to(device));
    }

    public ModelOutput RunStudent(ClassifierNet student, Tensor inputs, Generator random) =>
        student is SegmentationNet segmentation ? segmentation.Run(inputs, random) : student.Run(inputs);

    public Tensor Loss(ModelOutput student, Tensor labels) => SegmentationCrossEntropy.Compute(student.Logits, labels);

    /// <summary>Labelled pixels of the (augmented) batch predicted right, and labelled pixels.</summary>
    public (long Correct, long Scored) Hits(ModelOutput student, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var prediction = SegmentationNet.ResizeLogits(student.Logits, labels.shape[1], labels.shape[2]).argmax(1);
        var labelled = labels.ne(LabelMaps.IgnoreIndex);
        return (prediction.eq(labels).logical_and_(labelled).sum().ToInt64(), labelled.sum().ToInt64());
    }

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluate(ClassifierNet model, KdDataset data, Device device)
    {
        var scores = SegmentationEvaluator.Evaluate(model, data.Test, data.Normalization, device);
        var metrics = new Dictionary<string, double>
        {
            [MetricNames.Loss] = scores.Loss,
            [MetricNames.MeanIoU] = scores.MeanIoU,
            [MetricNames.PixelAccuracy] = scores.PixelAccuracy,
        };
        for (int c = 0; c < scores.ClassIoU.Count; c++)
            if (!double.IsNaN(scores.ClassIoU[c])) metrics[MetricNames.ClassIoU(c)] = scores.ClassIoU[c];
        return new Dictionary<string, IReadOnlyDictionary<string, double>> { [ExitNames.Final] = metrics };
    }
}
