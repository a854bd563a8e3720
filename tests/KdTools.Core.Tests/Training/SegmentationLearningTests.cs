using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Losses;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Training;

/// <summary>
/// The segmentation pieces together, before the engine runs them: a small PSPNet trained on the synthetic scenes with
/// the reference augmentation and optimiser settings clearly beats the mIoU of predicting the background everywhere.
/// </summary>
public class SegmentationLearningTests
{
    [Fact]
    public void A_small_pspnet_learns_the_synthetic_scenes_in_a_few_seconds()
    {
        using var data = SyntheticSegmentation.Create(new(TrainCount: 256, TestCount: 64, ImageSize: 64));
        using var model = (SegmentationNet)ArchitectureRegistry.Create("pspnet_resnet18_w8", data.Classes, seed: 1);
        using var optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9, weight_decay: 1e-4);
        var loader = new BatchLoader(data.Train, 16, shuffle: true, dropLast: true);

        double firstLoss = double.NaN, lastLoss = double.NaN;
        model.train();
        for (int epoch = 0, step = 0; epoch < 5; epoch++)
        {
            using var orderScope = NewDisposeScope();
            var order = loader.EpochOrder(epoch);
            for (int b = 0; b < loader.BatchCount; b++, step++)
            {
                using var scope = NewDisposeScope();
                using var random = new Generator((ulong)(100 + step));
                var batch = loader.GetBatch(order, b);
                var (images, labels) = SegmentationBatchAugmentation.Prepare(batch.Images, batch.Labels, data.Mean, data.Std,
                    SegmentationAugmentationPolicy.Standard, random);
                var loss = SegmentationCrossEntropy.Compute(model.Run(images, random).Logits, labels);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lastLoss = loss.item<float>();
                if (step == 0) firstLoss = lastLoss;
            }
        }

        var scores = Evaluate(model, data);
        var background = BackgroundOnlyMeanIoU(data.Test.Labels);
        Assert.True(lastLoss < 0.7 * firstLoss, $"loss {firstLoss} → {lastLoss}");
        Assert.True(scores.MeanIoU > 2 * background, $"mIoU {scores.MeanIoU:F3} vs {background:F3} for all-background ({scores.FormatClassIoU()})");
    }

    private static SegmentationScores Evaluate(SegmentationNet model, KdDataset data)
    {
        model.eval();
        using var metrics = new SegmentationMetrics(data.Classes, CPU);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (images, labels) = SegmentationBatchAugmentation.Prepare(data.Test.Images, data.Test.Labels, data.Mean, data.Std,
            SegmentationAugmentationPolicy.None, null);
        metrics.Add(model.Run(images).Logits, labels);
        return metrics.Result();
    }

    /// <summary>Predicting class 0 everywhere: its IoU is its share of the labelled pixels, every other present class scores 0.</summary>
    private static double BackgroundOnlyMeanIoU(Tensor labels)
    {
        using var scope = NewDisposeScope();
        var counts = labels.flatten().to_type(ScalarType.Int64).bincount(null, 256).narrow(0, 0, 255);
        return counts[0].item<long>() / (double)counts.sum().item<long>() / counts.gt(0).sum().item<long>();
    }
}
