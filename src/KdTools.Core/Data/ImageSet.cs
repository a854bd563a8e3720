using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// One split of an image dataset, held in memory as a single uint8 tensor: images [N, C, H, W] and labels, either
/// int64 class numbers [N] (classification) or uint8 label maps [N, H, W] with <see cref="LabelMaps.IgnoreIndex"/> for
/// pixels that count nowhere (segmentation). Kept on the CPU; batches are selected with <c>index_select</c> and moved to
/// the training device.
/// </summary>
public sealed class ImageSet : IDisposable
{
    public ImageSet(Tensor images, Tensor labels)
    {
        if (images.dtype != ScalarType.Byte || images.dim() != 4)
            throw new ArgumentException($"images must be uint8 [N, C, H, W], got {images.dtype} {FormatShape(images.shape)}");
        bool classLabels = labels.dtype == ScalarType.Int64 && labels.dim() == 1 && labels.shape[0] == images.shape[0];
        bool labelMaps = labels.dtype == ScalarType.Byte && labels.dim() == 3 && labels.shape[0] == images.shape[0]
                         && labels.shape[1] == images.shape[2] && labels.shape[2] == images.shape[3];
        if (!classLabels && !labelMaps)
            throw new ArgumentException($"labels must be int64 [N] or uint8 label maps [N, H, W] with N, H, W = " +
                                        $"{images.shape[0]}, {images.shape[2]}, {images.shape[3]}, got {labels.dtype} {FormatShape(labels.shape)}");
        Images = images;
        Labels = labels;
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int Count => (int)Images.shape[0];

    /// <summary>Classification for class labels [N], segmentation for label maps [N, H, W].</summary>
    public PredictionTask Task => Labels.dim() == 1 ? PredictionTask.Classification : PredictionTask.Segmentation;

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }

    internal static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}

/// <summary>
/// A dataset with a train and a test split of one task and the per-channel statistics used to normalise it.
/// </summary>
public sealed class KdDataset : IDisposable
{
    private string? _fingerprint;

    public KdDataset(string name, string source, int classes, ImageSet train, ImageSet test,
        float[] mean, float[] std, IReadOnlyList<string>? classNames = null)
    {
        if (train.Images.shape[1] != mean.Length || mean.Length != std.Length)
            throw new ArgumentException("mean and std need one value per image channel");
        if (train.Task != test.Task)
            throw new ArgumentException($"the train split holds {train.Task} labels but the test split {test.Task} labels");
        Name = name;
        Source = source;
        Classes = classes;
        Train = train;
        Test = test;
        Mean = mean;
        Std = std;
        ClassNames = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString()).ToList();
    }

    /// <summary>Short name (<c>synthetic</c>, <c>cifar10</c>, <c>cifar100</c>, <c>voc2012</c>, <c>cityscapes</c>).</summary>
    public string Name { get; }

    /// <summary>Where it came from: a folder path, or the generator settings for a synthetic set.</summary>
    public string Source { get; }

    /// <summary>Number of classes; segmentation labels are 0..Classes − 1 or <see cref="LabelMaps.IgnoreIndex"/>.</summary>
    public int Classes { get; }

    /// <summary>What the labels describe: one class per image or one per pixel.</summary>
    public PredictionTask Task => Train.Task;
    public ImageSet Train { get; }
    public ImageSet Test { get; }
    public float[] Mean { get; }
    public float[] Std { get; }

    /// <summary><see cref="Mean"/> and <see cref="Std"/>: what a network trained on this dataset is normalised with.</summary>
    public InputNormalization Normalization => new(Mean, Std);

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// A hash of both splits' images and labels (computed once): two datasets with the same fingerprint hold the same
    /// data, whatever their names and sources.
    /// </summary>
    public string Fingerprint => _fingerprint ??= TensorHash.Of([
        ("train.images", Train.Images), ("train.labels", Train.Labels), ("test.images", Test.Images), ("test.labels", Test.Labels)]);

    public int Channels => (int)Train.Images.shape[1];
    public int Height => (int)Train.Images.shape[2];
    public int Width => (int)Train.Images.shape[3];

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
