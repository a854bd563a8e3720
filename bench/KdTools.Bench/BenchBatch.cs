using KdTools.Core.Models;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// A random CIFAR-shaped batch (images, labels, dataset indices; another side for the streaming bench's resnet18) and the labels of the training set it is drawn from
/// (CRD samples negatives by class), made once outside any dispose scope.
/// </summary>
internal sealed class BenchBatch : IDisposable
{
    /// <summary>CIFAR-100's training split: the dataset size CRD's memory bank is built for.</summary>
    public const long TrainingSamples = 50_000;

    public BenchBatch(int size, int classes, int side = 32)
    {
        // In the layout the engine feeds the networks (channels-last on the CPU).
        Images = ChannelsLast.Apply(randn(size, 3, side, side));
        TrainingLabels = randint(0, classes, TrainingSamples, dtype: ScalarType.Int64);
        using var order = randperm(TrainingSamples);
        Indices = order.narrow(0, 0, size).clone();
        Labels = TrainingLabels.index_select(0, Indices);
    }

    /// <summary>Labels of the whole (virtual) training set, int64 [<see cref="TrainingSamples"/>].</summary>
    public Tensor TrainingLabels { get; }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public Tensor Indices { get; }

    /// <summary>
    /// Gives an untrained teacher the batch-norm statistics of this batch (train-mode passes under no_grad), then puts it
    /// in eval mode. With its initial statistics (mean 0, variance 1) an untrained eval-mode resnet56 amplifies random
    /// inputs to stage-3 features in the thousands, and likelihood losses such as VID's diverge within a few steps,
    /// which would time non-finite arithmetic instead of the method.
    /// </summary>
    public void CalibrateBatchNorm(ClassifierNet model, int passes = 20)
    {
        using var noGrad = no_grad();
        model.train();
        for (int i = 0; i < passes; i++)
        {
            using var scope = NewDisposeScope();
            model.Run(Images);
        }
        model.eval();
    }

    public void Dispose()
    {
        Images.Dispose();
        TrainingLabels.Dispose();
        Labels.Dispose();
        Indices.Dispose();
    }
}
