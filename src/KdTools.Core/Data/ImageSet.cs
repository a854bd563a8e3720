using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// One split of an image dataset: images [N, C, H, W] uint8 and labels, either int64 class numbers [N]
/// (classification) or uint8 label maps [N, H, W] with <see cref="LabelMaps.IgnoreIndex"/> for pixels that count
/// nowhere (segmentation). The images are held in memory as a single uint8 tensor, or, for a streamed classification
/// split, read from an <see cref="IImageSource"/> on demand (the labels are always in memory). Kept on the CPU; batches
/// are selected by index (<see cref="BatchLoader"/>) and moved to the training device.
/// </summary>
public sealed class ImageSet : IDisposable
{
    private readonly Tensor? _images;

    /// <summary>A split held in memory.</summary>
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
        _images = images;
        Labels = labels;
        Count = (int)images.shape[0];
        Channels = (int)images.shape[1];
        Height = (int)images.shape[2];
        Width = (int)images.shape[3];
    }

    /// <summary>A streamed classification split: the images stay in <paramref name="source"/>, which the set then owns.</summary>
    /// <param name="labels">int64 [N], one class per image of the source.</param>
    public ImageSet(IImageSource source, Tensor labels, StreamingOptions? streaming = null)
    {
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != source.Count)
            throw new ArgumentException($"labels of a streamed split must be int64 [{source.Count}], got {labels.dtype} {FormatShape(labels.shape)}");
        Streaming = streaming ?? StreamingOptions.Default;
        Streaming.Validate();
        Source = source;
        Labels = labels;
        Count = source.Count;
        Channels = source.Channels;
        Height = source.Height;
        Width = source.Width;
    }

    /// <summary>All images, [N, C, H, W] uint8, of a split held in memory.</summary>
    /// <exception cref="InvalidOperationException">The split is streamed (<see cref="IsStreamed"/>): read it by batches.</exception>
    public Tensor Images => _images ?? throw new InvalidOperationException(
        "the split is streamed from disk, so its images are not one tensor; read them by batches (BatchLoader) or with Slice");

    public Tensor Labels { get; }
    public int Count { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Whether the images are read from <see cref="Source"/> on demand instead of held in memory.</summary>
    public bool IsStreamed => Source is not null;

    /// <summary>Where a streamed split's images are read from; null in memory.</summary>
    public IImageSource? Source { get; }

    /// <summary>How a streamed split is read; null in memory.</summary>
    public StreamingOptions? Streaming { get; }

    /// <summary>Bytes of one image, C·H·W.</summary>
    public int ImageBytes => Channels * Height * Width;

    /// <summary>Classification for class labels [N], segmentation for label maps [N, H, W].</summary>
    public PredictionTask Task => Labels.dim() == 1 ? PredictionTask.Classification : PredictionTask.Segmentation;

    /// <summary>
    /// Images <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> − 1, [count, C, H, W] uint8:
    /// a view of a split in memory, a new tensor read from the source of a streamed one.
    /// </summary>
    public Tensor Slice(int start, int count)
    {
        if (_images is not null) return _images.narrow(0, start, count);
        var indices = new long[count];
        for (int i = 0; i < count; i++) indices[i] = start + i;
        var buffer = new byte[(long)count * ImageBytes];
        Read(indices, buffer);
        return ToTensor(buffer, count);
    }

    /// <summary>The split in consecutive slices of at most <paramref name="size"/> images (<see cref="Slice"/>), in order.</summary>
    public IEnumerable<Tensor> Chunks(int size)
    {
        for (int start = 0; start < Count; start += size)
            yield return Slice(start, Math.Min(size, Count - start));
    }

    /// <summary>Reads the images at <paramref name="indices"/> of a streamed split into <paramref name="buffer"/>, one after
    /// the other, with the split's parallel workers.</summary>
    internal void Read(ReadOnlySpan<long> indices, byte[] buffer, CancellationToken cancellation = default)
    {
        var source = Source!;
        int bytes = ImageBytes;
        var positions = indices.ToArray();
        try
        {
            Parallel.For(0, positions.Length, new ParallelOptions { MaxDegreeOfParallelism = Streaming!.Workers, CancellationToken = cancellation },
                i => source.Read((int)positions[i], buffer.AsSpan(i * bytes, bytes)));
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(inner => inner is KdException) is { } first)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first); // one bad image, reported as a sequential read would
        }
    }

    /// <summary>[count, C, H, W] uint8, a copy of the first images of <paramref name="buffer"/>.</summary>
    internal Tensor ToTensor(byte[] buffer, int count)
    {
        var images = empty([count, Channels, Height, Width], ScalarType.Byte);
        images.data<byte>().CopyFrom(new ReadOnlySpan<byte>(buffer, 0, count * ImageBytes), 0, 0);
        return images;
    }

    public void Dispose()
    {
        _images?.Dispose();
        Source?.Dispose();
        Labels.Dispose();
    }

    internal static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}

