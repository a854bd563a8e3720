using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>One batch: uint8 images [b, C, H, W], int64 labels and the samples' dataset indices.</summary>
public sealed record Batch(Tensor Images, Tensor Labels, Tensor Indices);

/// <summary>
/// Batches over an in-memory split: one permutation per epoch, then an <c>index_select</c> per tensor per batch
/// (TorchSharp's DataLoader fetches sample by sample, which dominates small-model step times).
/// </summary>
public sealed class BatchLoader
{
    private readonly ImageSet _set;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly bool _dropLast;

    public BatchLoader(ImageSet set, int batchSize, bool shuffle, bool dropLast = false)
    {
        if (batchSize < 1)
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument, $"BatchSize = {batchSize} is invalid: must be ≥ 1", batchSize);
        _set = set;
        _batchSize = batchSize;
        _shuffle = shuffle;
        _dropLast = dropLast;
    }

    public int BatchCount => _dropLast ? _set.Count / _batchSize : (_set.Count + _batchSize - 1) / _batchSize;

    /// <summary>The sample order of an epoch: a permutation drawn from <paramref name="seed"/>, or 0..N−1 without shuffling.</summary>
    public Tensor EpochOrder(long seed)
    {
        if (!_shuffle) return torch.arange(_set.Count, dtype: ScalarType.Int64);
        using var generator = new Generator((ulong)seed);
        return torch.randperm(_set.Count, generator: generator, dtype: ScalarType.Int64);
    }

    public Batch GetBatch(Tensor order, int batchIndex)
    {
        if (batchIndex < 0 || batchIndex >= BatchCount)
            throw new ArgumentOutOfRangeException(nameof(batchIndex), $"batch {batchIndex} of {BatchCount}");
        long start = (long)batchIndex * _batchSize;
        var indices = order.narrow(0, start, Math.Min(_batchSize, _set.Count - start));
        return new Batch(_set.Images.index_select(0, indices), _set.Labels.index_select(0, indices), indices);
    }
}
