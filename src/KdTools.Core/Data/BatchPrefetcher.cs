using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Reads the batches of one epoch of a streamed split ahead of their use: a background task decodes batch after batch
/// in the epoch's order, each with the split's parallel workers (<see cref="StreamingOptions.Workers"/>), into a fixed
/// set of <see cref="StreamingOptions.PrefetchBatches"/> pixel buffers. It waits when every buffer holds a batch not yet
/// taken, so its memory is bounded whatever the split's size. Buffers are managed arrays and the tensors are made on the
/// taking thread, so no tensor crosses threads and dispose scopes stay where they belong.
/// </summary>
internal sealed class BatchPrefetcher : IDisposable
{
    private readonly ImageSet _set;
    private readonly long[] _order;
    private readonly int _batchSize;
    private readonly int _batchCount;
    private readonly BlockingCollection<(byte[] Buffer, int Count, ExceptionDispatchInfo? Failure)> _ready = new();
    private readonly ConcurrentBag<byte[]> _free = new();
    private readonly SemaphoreSlim _freeCount;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;

    /// <param name="order">The epoch's sample order (all of it; batch b is positions b·batch .. b·batch + batch − 1).</param>
    /// <param name="firstBatch">The batch the first <see cref="Take"/> asks for.</param>
    public BatchPrefetcher(ImageSet set, long[] order, int batchSize, int batchCount, int firstBatch)
    {
        _set = set;
        _order = order;
        _batchSize = batchSize;
        _batchCount = batchCount;
        NextBatch = firstBatch;
        int buffers = set.Streaming!.PrefetchBatches;
        for (int i = 0; i < buffers; i++) _free.Add(new byte[(long)batchSize * set.ImageBytes]);
        _freeCount = new SemaphoreSlim(buffers, buffers);
        _producer = Task.Factory.StartNew(() => Produce(firstBatch), TaskCreationOptions.LongRunning);
    }

    /// <summary>The batch the next <see cref="Take"/> returns.</summary>
    public int NextBatch { get; private set; }

    /// <summary>The next batch's images, [b, C, H, W] uint8, a new tensor owned by the caller's dispose scope.</summary>
    /// <exception cref="KdException">What reading the batch failed with (a damaged shard record, an unreadable file).</exception>
    public Tensor Take()
    {
        var (buffer, count, failure) = _ready.Take();
        failure?.Throw();
        try
        {
            NextBatch++;
            return _set.ToTensor(buffer, count);
        }
        finally
        {
            _free.Add(buffer);
            _freeCount.Release();
        }
    }

    private void Produce(int firstBatch)
    {
        var cancellation = _stop.Token;
        try
        {
            for (int b = firstBatch; b < _batchCount; b++)
            {
                _freeCount.Wait(cancellation);
                _free.TryTake(out var buffer);
                int start = b * _batchSize, count = Math.Min(_batchSize, _order.Length - start);
                _set.Read(_order.AsSpan(start, count), buffer!, cancellation);
                _ready.Add((buffer!, count, null), cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _ready.Add((null!, 0, ExceptionDispatchInfo.Capture(e)));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _producer.Wait();
        }
        catch (AggregateException)
        {
            // The producer reports its failures through the queue; nothing is left to report once it stops.
        }
        _stop.Dispose();
        _freeCount.Dispose();
        _ready.Dispose();
    }
}
