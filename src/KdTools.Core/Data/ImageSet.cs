using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// One split of an image dataset, held in memory as a single uint8 tensor: images [N, C, H, W] and int64 labels [N].
/// Kept on the CPU; batches are selected with <c>index_select</c> and moved to the training device.
/// </summary>
public sealed class ImageSet : IDisposable
{
    public ImageSet(Tensor images, Tensor labels)
    {
        if (images.dtype != ScalarType.Byte || images.dim() != 4)
            throw new ArgumentException($"images must be uint8 [N, C, H, W], got {images.dtype} {FormatShape(images.shape)}");
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"labels must be int64 [N] with N = {images.shape[0]}, got {labels.dtype} {FormatShape(labels.shape)}");
        Images = images;
        Labels = labels;
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int Count => (int)Images.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }

    internal static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}

/// <summary>
/// A classification dataset with a train and a test split and the per-channel statistics used to normalise it.
/// </summary>
public sealed class KdDataset : IDisposable
{
    public KdDataset(string name, string source, int classes, ImageSet train, ImageSet test,
        float[] mean, float[] std, IReadOnlyList<string>? classNames = null)
    {
        if (train.Images.shape[1] != mean.Length || mean.Length != std.Length)
            throw new ArgumentException("mean and std need one value per image channel");
        Name = name;
        Source = source;
        Classes = classes;
        Train = train;
        Test = test;
        Mean = mean;
        Std = std;
        ClassNames = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString()).ToList();
    }

    /// <summary>Short name (<c>synthetic</c>, <c>cifar10</c>, <c>cifar100</c>).</summary>
    public string Name { get; }

    /// <summary>Where it came from: a folder path, or the generator settings for a synthetic set.</summary>
    public string Source { get; }

    public int Classes { get; }
    public ImageSet Train { get; }
    public ImageSet Test { get; }
    public float[] Mean { get; }
    public float[] Std { get; }

    /// <summary><see cref="Mean"/> and <see cref="Std"/>: what a network trained on this dataset is normalised with.</summary>
    public InputNormalization Normalization => new(Mean, Std);

    public IReadOnlyList<string> ClassNames { get; }

    public int Channels => (int)Train.Images.shape[1];
    public int Height => (int)Train.Images.shape[2];
    public int Width => (int)Train.Images.shape[3];

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
