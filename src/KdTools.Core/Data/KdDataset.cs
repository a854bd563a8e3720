using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// A dataset with a train and a test split of one task and the per-channel statistics used to normalise it.
/// </summary>
public sealed class KdDataset : IDisposable
{
    private string? _fingerprint;

    public KdDataset(string name, string source, int classes, ImageSet train, ImageSet test,
        float[] mean, float[] std, IReadOnlyList<string>? classNames = null)
    {
        if (train.Channels != mean.Length || mean.Length != std.Length)
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
    /// <remarks>A streamed split is read once for it (no decoding for a shard), so a streamed copy of a dataset has the
    /// fingerprint of the dataset in memory.</remarks>
    public string Fingerprint => _fingerprint ??= TensorHash.Of([
        TensorHash.Part.Of("train.images", Train), TensorHash.Part.Of("train.labels", Train.Labels),
        TensorHash.Part.Of("test.images", Test), TensorHash.Part.Of("test.labels", Test.Labels)]);

    /// <summary>Whether the images are read from disk batch by batch rather than held in memory.</summary>
    public bool IsStreamed => Train.IsStreamed;

    public int Channels => Train.Channels;
    public int Height => Train.Height;
    public int Width => Train.Width;

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
