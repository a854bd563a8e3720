using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class BatchLoaderTests
{
    private const int SampleCount = 10;

    /// <summary>Image i is filled with the value i and has label i % 3, so every batch can be checked against its indices.</summary>
    private static ImageSet NumberedSet() => new(
        arange(SampleCount, ScalarType.Byte).view(SampleCount, 1, 1, 1).expand(SampleCount, 2, 3, 3).contiguous(),
        arange(SampleCount, ScalarType.Int64).remainder(3));

    private static List<Batch> AllBatches(BatchLoader loader, Tensor order) =>
        Enumerable.Range(0, loader.BatchCount).Select(b => loader.GetBatch(order, b)).ToList();

    [Fact]
    public void Shuffled_epoch_covers_every_sample_once_with_matching_images_and_labels()
    {
        using var scope = NewDisposeScope();
        using var set = NumberedSet();
        var loader = new BatchLoader(set, batchSize: 4, shuffle: true);
        var batches = AllBatches(loader, loader.EpochOrder(seed: 7));

        Assert.Equal(3, loader.BatchCount);
        Assert.Equal([4, 4, 2], batches.Select(b => b.Count));
        var indices = cat(batches.Select(b => b.Indices).ToList(), 0);
        Assert.Equal(Enumerable.Range(0, SampleCount).Select(i => (long)i), indices.sort().Values.data<long>().ToArray());
        foreach (var batch in batches)
        {
            Assert.Equal(ScalarType.Byte, batch.Images.dtype);
            Assert.Equal(ScalarType.Int64, batch.Labels.dtype);
            Assert.Equal(new long[] { batch.Count, 2, 3, 3 }, batch.Images.shape);
            Assert.True(TensorCompare.Identical(batch.Images[.., 0, 0, 0].to_type(ScalarType.Int64), batch.Indices));
            Assert.True(TensorCompare.Identical(batch.Labels, batch.Indices.remainder(3)));
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_order_and_another_seed_a_different_one()
    {
        using var scope = NewDisposeScope();
        using var set = NumberedSet();
        var loader = new BatchLoader(set, batchSize: 3, shuffle: true);

        Assert.True(TensorCompare.Identical(loader.EpochOrder(1), loader.EpochOrder(1)));
        Assert.False(TensorCompare.Identical(loader.EpochOrder(1), loader.EpochOrder(2)));
    }

    [Fact]
    public void Without_shuffle_batches_follow_the_stored_order()
    {
        using var scope = NewDisposeScope();
        using var set = NumberedSet();
        var loader = new BatchLoader(set, batchSize: 4, shuffle: false);
        var order = loader.EpochOrder(seed: 5);

        Assert.Equal(Enumerable.Range(0, SampleCount).Select(i => (long)i), order.data<long>().ToArray());
        Assert.Equal([8L, 9L], loader.GetBatch(order, 2).Indices.data<long>().ToArray());
    }

    [Fact]
    public void Drop_last_skips_the_partial_batch()
    {
        using var scope = NewDisposeScope();
        using var set = NumberedSet();
        var loader = new BatchLoader(set, batchSize: 4, shuffle: true, dropLast: true);
        var order = loader.EpochOrder(seed: 3);
        var batches = AllBatches(loader, order);

        Assert.Equal(2, loader.BatchCount);
        Assert.All(batches, b => Assert.Equal(4, b.Count));
        var seen = cat(batches.Select(b => b.Indices).ToList(), 0);
        Assert.True(TensorCompare.Identical(seen, order.narrow(0, 0, 8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.GetBatch(order, 2));
    }

    [Fact]
    public void Batch_size_that_divides_the_set_leaves_no_partial_batch()
    {
        using var scope = NewDisposeScope();
        using var set = NumberedSet();
        var loader = new BatchLoader(set, batchSize: 5, shuffle: false);

        Assert.Equal(2, loader.BatchCount);
        Assert.Equal(5, loader.GetBatch(loader.EpochOrder(0), 1).Count);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(-3, false)]
    [InlineData(SampleCount + 1, true)]
    public void Unusable_batch_size_is_a_training_setting_error(int batchSize, bool dropLast)
    {
        using var set = NumberedSet();
        var ex = Assert.Throws<KdException>(() => new BatchLoader(set, batchSize, shuffle: true, dropLast));
        Assert.Equal(KdErrorIds.TrainingSettingInvalid, ex.ErrorId);
        Assert.Equal(batchSize, ex.Target);
    }

    [Fact]
    public void Order_of_another_length_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var set = NumberedSet();
        var loader = new BatchLoader(set, batchSize: 4, shuffle: false);
        Assert.Throws<ArgumentException>(() => loader.GetBatch(arange(4, ScalarType.Int64), 0));
    }
}
