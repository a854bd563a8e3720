namespace KdTools.Core.Data;

/// <summary>Whether a dataset's images are held in memory or read from disk batch by batch.</summary>
public enum DatasetLoading
{
    /// <summary>
    /// In memory unless the decoded images of both splits would take more than
    /// <see cref="StreamingOptions.AutomaticThresholdBytes"/>; layouts that cannot stream are always read into memory.
    /// </summary>
    Auto,

    /// <summary>Both splits decoded into one uint8 tensor each.</summary>
    InMemory,

    /// <summary>Images stay on disk and are read lazily, each batch decoded by parallel workers ahead of its use.</summary>
    Streamed,
}

/// <summary>How a streamed split is read: the decoding workers and how far they may run ahead of training.</summary>
/// <param name="Workers">Images decoded at once (threads); by default one per processor core.</param>
/// <param name="PrefetchBatches">
/// Batches decoded ahead of the one in use. Together with the batch size this bounds the memory streaming takes:
/// <c>PrefetchBatches × batch × C × H × W</c> bytes of pixels, whatever the size of the dataset.
/// </param>
public sealed record StreamingOptions(int Workers, int PrefetchBatches = StreamingOptions.DefaultPrefetchBatches)
{
    /// <summary>Batches decoded ahead of training by default: enough to ride out a slow file, little memory.</summary>
    public const int DefaultPrefetchBatches = 4;

    /// <summary>
    /// Decoded size (both splits, uint8 pixels) above which <see cref="DatasetLoading.Auto"/> streams: 1 GiB, a little
    /// below Tiny-ImageNet at 64 px (1.35 GB) and far above CIFAR (184 MB).
    /// </summary>
    public const long AutomaticThresholdBytes = 1L << 30;

    /// <summary>One worker per core, <see cref="DefaultPrefetchBatches"/> batches ahead.</summary>
    public static StreamingOptions Default { get; } = new(Environment.ProcessorCount);

    /// <summary>Whether <paramref name="loading"/> streams a dataset of <paramref name="decodedBytes"/> bytes of pixels.</summary>
    public static bool Streams(DatasetLoading loading, long decodedBytes) =>
        loading == DatasetLoading.Streamed || (loading == DatasetLoading.Auto && decodedBytes > AutomaticThresholdBytes);

    internal void Validate()
    {
        if (Workers < 1 || PrefetchBatches < 1)
            throw new KdException(KdErrorIds.DatasetArgumentInvalid, KdErrorKind.InvalidArgument,
                $"streaming needs at least one worker and one prefetched batch, got {Workers} and {PrefetchBatches}");
    }
}
