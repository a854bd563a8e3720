using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>One mini-batch: uint8 images [b, C, H, W], int64 labels [b], and the int64 positions of the samples in
/// their split (memory-bank methods key on them).</summary>
internal sealed record Batch(Tensor Images, Tensor Labels, Tensor Indices) : IDisposable
{
    public int Count => (int)Labels.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        Indices.Dispose();
    }
}

/// <summary>
/// Cuts an <see cref="ImageSet"/> into mini-batches: one sample order per epoch (a seeded permutation or the identity),
/// and each batch taken with one <c>index_select</c> per tensor from a split in memory, or, from a streamed split, read
/// by a <see cref="BatchPrefetcher"/> that decodes the epoch's next batches in the background. Both give the same bytes
/// for the same order, so what a run computes does not depend on where its images are. Dispose it to stop the
/// prefetching.
/// </summary>
internal sealed class BatchLoader : IDisposable
{
    private readonly ImageSet _set;
    private BatchPrefetcher? _prefetcher;
    private Tensor? _prefetchedOrder;

    public BatchLoader(ImageSet set, int batchSize, bool shuffle, bool dropLast = false)
    {
        if (batchSize < 1)
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"batch size must be at least 1, got {batchSize}", batchSize);
        if (dropLast && batchSize > set.Count)
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"batch size {batchSize} exceeds the {set.Count} images of the split, so dropping the last partial " +
                $"batch leaves no batch at all; use a batch size of at most {set.Count}", batchSize);
        _set = set;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
    }

    public int BatchSize { get; }
    public bool Shuffle { get; }

    /// <summary>When set, a final batch smaller than <see cref="BatchSize"/> is skipped (keeps BatchNorm statistics stable).</summary>
    public bool DropLast { get; }

    public int BatchCount => DropLast ? _set.Count / BatchSize : (_set.Count + BatchSize - 1) / BatchSize;

    /// <summary>The sample order of one epoch, int64 [N]: a permutation drawn from a generator seeded with
    /// <paramref name="seed"/> when shuffling (pass a different seed per epoch), else 0..N-1.</summary>
    public Tensor EpochOrder(long seed)
    {
        if (!Shuffle)
            return arange(_set.Count, ScalarType.Int64);
        using var generator = new Generator().manual_seed(seed);
        return randperm(_set.Count, ScalarType.Int64, generator: generator);
    }

    /// <summary>Batch <paramref name="batchIndex"/> (0-based, below <see cref="BatchCount"/>) of the epoch whose order is
    /// <paramref name="order"/>. The tensors are new, on the CPU, and owned by the caller (or the active dispose scope).</summary>
    public Batch GetBatch(Tensor order, int batchIndex)
    {
        if (order.dim() != 1 || order.shape[0] != _set.Count)
            throw new ArgumentException($"order must be an int64 [{_set.Count}] tensor from EpochOrder, got {ImageSet.FormatShape(order.shape)}", nameof(order));
        if (batchIndex < 0 || batchIndex >= BatchCount)
            throw new ArgumentOutOfRangeException(nameof(batchIndex), batchIndex, $"batch index must be in 0..{BatchCount - 1}");

        var start = (long)batchIndex * BatchSize;
        var indices = order.narrow(0, start, Math.Min(BatchSize, _set.Count - start)).clone();
        var images = _set.IsStreamed ? Prefetched(order, batchIndex) : _set.Images.index_select(0, indices);
        return new Batch(images, _set.Labels.index_select(0, indices), indices);
    }

    /// <summary>
    /// Batch <paramref name="batchIndex"/> of a streamed split from the prefetcher of <paramref name="order"/>; asking
    /// for another order, or out of sequence (a resumed epoch), starts a new prefetcher there.
    /// </summary>
    private Tensor Prefetched(Tensor order, int batchIndex)
    {
        if (_prefetcher is null || !ReferenceEquals(order, _prefetchedOrder) || _prefetcher.NextBatch != batchIndex)
        {
            _prefetcher?.Dispose();
            _prefetcher = new BatchPrefetcher(_set, order.data<long>().ToArray(), BatchSize, BatchCount, batchIndex);
            _prefetchedOrder = order;
        }
        return _prefetcher.Take();
    }

    /// <summary>Stops the background reading of a streamed split (nothing to do in memory).</summary>
    public void Dispose()
    {
        _prefetcher?.Dispose();
        _prefetcher = null;
        _prefetchedOrder = null;
    }
}
