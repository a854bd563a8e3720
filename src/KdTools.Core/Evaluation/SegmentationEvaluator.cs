using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Evaluation;

/// <summary>Scores segmentation networks on a split, in eval mode under no_grad, one dispose scope per batch.</summary>
internal static class SegmentationEvaluator
{
    /// <summary>Images per forward pass unless told otherwise (segmentation images are larger than CIFAR's).</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>
    /// Mean IoU, pixel accuracy, per-class IoU and loss of <paramref name="model"/> over every labelled pixel of
    /// <paramref name="set"/> (<see cref="SegmentationMetrics"/>: one confusion matrix, <see cref="LabelMaps.IgnoreIndex"/>
    /// left out), and with <paramref name="teacher"/> the share of labelled pixels where both predict the same class.
    /// Each network sees the images normalised with its own statistics, or the dataset's when it has none; their
    /// train/eval modes are restored afterwards.
    /// </summary>
    public static SegmentationScores Evaluate(ClassifierNet model, ImageSet set, InputNormalization datasetNormalization, Device device,
        int batchSize = DefaultBatchSize, ClassifierNet? teacher = null, CancellationToken cancellation = default)
    {
        var modelNormalization = model.Normalization ?? datasetNormalization;
        var teacherNormalization = teacher?.Normalization ?? datasetNormalization;
        bool wasTraining = model.training, teacherWasTraining = teacher?.training ?? false;
        model.eval();
        teacher?.eval();
        var loader = new BatchLoader(set, batchSize, shuffle: false);
        try
        {
            using var metrics = new SegmentationMetrics(model.NumClasses, device);
            using var noGrad = no_grad();
            using (var orderScope = NewDisposeScope())
            {
                var order = loader.EpochOrder(0);
                for (int b = 0; b < loader.BatchCount; b++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var batch = loader.GetBatch(order, b);
                    var inputs = Normalized(batch.Images, modelNormalization, device);
                    var teacherInputs = teacher is null || teacherNormalization.Equals(modelNormalization)
                        ? inputs : Normalized(batch.Images, teacherNormalization, device);
                    metrics.Add(model.Run(inputs).Logits, batch.Labels.to(device).to_type(ScalarType.Int64), teacher?.Run(teacherInputs).Logits);
                }
            }
            return metrics.Result();
        }
        finally
        {
            model.train(wasTraining);
            teacher?.train(teacherWasTraining);
        }
    }

    private static Tensor Normalized(Tensor images, InputNormalization normalization, Device device) =>
        BatchAugmentation.Prepare(images, normalization.Mean, normalization.Std, AugmentationPolicy.None, generator: null).to(device);
}
