using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>A random CIFAR-shaped batch (images, labels, dataset indices), made once outside any dispose scope.</summary>
internal sealed class BenchBatch : IDisposable
{
    /// <summary>CIFAR-100's training split: the dataset size CRD's memory bank is built for.</summary>
    public const long TrainingSamples = 50_000;

    public BenchBatch(int size, int classes)
    {
        Images = randn(size, 3, 32, 32);
        Labels = randint(0, classes, size, dtype: ScalarType.Int64);
        using var order = randperm(TrainingSamples);
        Indices = order.narrow(0, 0, size).clone();
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public Tensor Indices { get; }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        Indices.Dispose();
    }
}
