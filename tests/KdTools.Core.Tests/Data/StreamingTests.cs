using KdTools.Core.Data;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

/// <summary>Shards and streamed splits: the same bytes, statistics, fingerprint and training results as in memory.</summary>
public class StreamingTests
{
    private static readonly StreamingOptions TwoWorkers = new(Workers: 2, PrefetchBatches: 2);

    private static KdDataset ReadShards(string folder, DatasetLoading loading) =>
        DatasetFormatRegistry.Get("Shard").Read(folder, new DatasetReadOptions(Loading: loading, Streaming: TwoWorkers));

    private static void AssertSameImages(ImageSet expected, ImageSet actual)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected.Count, actual.Count);
        Assert.True(TensorCompare.Identical(expected.Slice(0, expected.Count), actual.Slice(0, actual.Count)));
        Assert.True(TensorCompare.Identical(expected.Labels, actual.Labels));
    }

    [Theory]
    [InlineData(DatasetLoading.Streamed)]
    [InlineData(DatasetLoading.InMemory)]
    public void A_shard_round_trip_gives_the_same_images_labels_statistics_and_fingerprint(DatasetLoading loading)
    {
        using var temp = new TempFolder();
        using var original = TinySetup.Dataset(train: 40, test: 12, classes: 3);
        ShardFile.WriteDataset(temp.Path, original);

        using var shard = ReadShards(temp.Path, loading);

        Assert.Equal(loading == DatasetLoading.Streamed, shard.IsStreamed);
        Assert.Equal((original.Name, original.Source, original.Classes), (shard.Name, shard.Source, shard.Classes));
        Assert.Equal(original.ClassNames, shard.ClassNames);
        Assert.Equal(original.Mean, shard.Mean);
        Assert.Equal(original.Std, shard.Std);
        AssertSameImages(original.Train, shard.Train);
        AssertSameImages(original.Test, shard.Test);
        Assert.Equal(original.Fingerprint, shard.Fingerprint);
    }

    [Fact]
    public void A_shard_folder_is_detected_and_read_into_memory_below_the_threshold()
    {
        using var temp = new TempFolder();
        using var original = TinySetup.Dataset(train: 8, test: 4, classes: 2);
        ShardFile.WriteDataset(temp.Path, original);

        using var detected = DatasetReader.Read(temp.Path);

        Assert.False(detected.IsStreamed);
        AssertSameImages(original.Train, detected.Train);
        Assert.True(File.Exists(Path.Combine(temp.Path, "train.kdshard")) && File.Exists(Path.Combine(temp.Path, "test.kdshard")));
    }

    [Fact]
    public void A_streamed_image_folder_decodes_to_the_same_bytes_and_statistics_as_in_memory()
    {
        using var temp = new TempFolder();
        var random = new Random(5);
        foreach (var (split, count) in new[] { ("train", 5), ("test", 2) })
            foreach (var label in new[] { "a", "b" })
            {
                Directory.CreateDirectory(temp.Combine(split, label));
                for (int i = 0; i < count; i++)
                {
                    int side = 6 + 2 * i; // some images are resized, some are not
                    var pixels = new byte[side * side * 3];
                    random.NextBytes(pixels);
                    ImageFiles.WritePng(temp.Combine(split, label, $"{i}.png"), side, side, 3, pixels);
                }
            }

        using var memory = ImageFolderReader.Read(temp.Path, imageSize: 8);
        using var streamed = ImageFolderReader.Read(temp.Path, imageSize: 8, DatasetLoading.Streamed, TwoWorkers);

        Assert.True(streamed.IsStreamed);
        AssertSameImages(memory.Train, streamed.Train);
        AssertSameImages(memory.Test, streamed.Test);
        Assert.Equal(memory.Mean, streamed.Mean);
        Assert.Equal(memory.Std, streamed.Std);
        Assert.Equal(memory.Fingerprint, streamed.Fingerprint);
    }

    [Fact]
    public void A_run_on_a_streamed_shard_is_bit_identical_to_the_run_in_memory()
    {
        using var temp = new TempFolder();
        using var memory = TinySetup.Dataset(train: 80, test: 24, classes: 3);
        ShardFile.WriteDataset(temp.Path, memory);
        using var streamed = ReadShards(temp.Path, DatasetLoading.Streamed);
        // KD: the teacher's forward, the shuffled order, the augmentation draws and the evaluation all read the batches.
        var settings = TinySetup.Settings(epochs: 2) with { BatchSize = 16 };
        TrainingResult Train(KdDataset data, out Dictionary<string, float[]> weights)
        {
            var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 5);
            var job = TinySetup.Job(data, "KD", teacher);
            var result = new Trainer(settings).Run(job);
            weights = TinySetup.Weights(job.Student);
            return result;
        }

        var inMemory = Train(memory, out var memoryWeights);
        var fromShard = Train(streamed, out var shardWeights);

        Assert.True(streamed.IsStreamed);
        Assert.Equal(memoryWeights.Keys, shardWeights.Keys);
        foreach (var (key, values) in memoryWeights) Assert.Equal(values, shardWeights[key]);
        Assert.Equal(inMemory.History.Select(h => h.TrainLoss), fromShard.History.Select(h => h.TrainLoss));
        Assert.Equal(inMemory.History.Select(h => h.Test["final"]["top1"]), fromShard.History.Select(h => h.Test["final"]["top1"]));
        Assert.Equal(inMemory.History.Select(h => h.Test["final"]["loss"]), fromShard.History.Select(h => h.Test["final"]["loss"]));
    }

    [Fact]
    public void A_truncated_shard_is_reported_as_corrupt_naming_the_file()
    {
        using var temp = new TempFolder();
        using var original = TinySetup.Dataset(train: 8, test: 4, classes: 2);
        ShardFile.WriteDataset(temp.Path, original);
        var train = Path.Combine(temp.Path, "train.kdshard");
        using (var file = new FileStream(train, FileMode.Open)) file.SetLength(file.Length - 10);

        var error = Assert.Throws<KdException>(() => ReadShards(temp.Path, DatasetLoading.Streamed));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, error.ErrorId);
        Assert.Contains(train, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_shard_or_has_a_bad_label_is_reported_as_corrupt()
    {
        using var temp = new TempFolder();
        using var original = TinySetup.Dataset(train: 8, test: 4, classes: 2);
        ShardFile.WriteDataset(temp.Path, original);
        var test = Path.Combine(temp.Path, "test.kdshard");
        var bytes = File.ReadAllBytes(test);
        // The first label follows the 16-byte prefix and the JSON header; class 9 is outside the 2 classes.
        int headerBytes = BitConverter.ToInt32(bytes, 12);
        bytes[16 + headerBytes] = 9;
        File.WriteAllBytes(test, bytes);

        var badLabel = Assert.Throws<KdException>(() => ReadShards(temp.Path, DatasetLoading.Streamed));
        File.WriteAllText(test, "not a shard at all");
        var notShard = Assert.Throws<KdException>(() => ReadShards(temp.Path, DatasetLoading.Streamed));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, badLabel.ErrorId);
        Assert.Contains("label 9", badLabel.Message);
        Assert.Equal(KdErrorIds.DatasetFileCorrupt, notShard.ErrorId);
        Assert.Contains("signature", notShard.Message);
    }

    [Fact]
    public void A_damaged_record_fails_its_checksum_when_its_batch_is_read()
    {
        using var temp = new TempFolder();
        using var original = TinySetup.Dataset(train: 8, test: 4, classes: 2);
        ShardFile.WriteDataset(temp.Path, original);
        var train = Path.Combine(temp.Path, "train.kdshard");
        var bytes = File.ReadAllBytes(train);
        bytes[^1] ^= 0x40; // the last pixel of the last image
        File.WriteAllBytes(train, bytes);
        using var damaged = ReadShards(temp.Path, DatasetLoading.Streamed);
        using var loader = new BatchLoader(damaged.Train, batchSize: 4, shuffle: false);
        using var scope = NewDisposeScope();
        var order = loader.EpochOrder(0);

        loader.GetBatch(order, 0); // images 0..3 are intact
        var error = Assert.Throws<KdException>(() => loader.GetBatch(order, 1));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, error.ErrorId);
        Assert.Contains("image 7 does not match its checksum", error.Message);
    }

    [Fact]
    public void Asking_to_stream_a_format_that_cannot_fails_naming_the_ones_that_can()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("train.csv"), "0," + string.Join(",", Enumerable.Repeat(1, 64 * 3)));
        File.WriteAllText(temp.Combine("test.csv"), "1," + string.Join(",", Enumerable.Repeat(2, 64 * 3)));

        var error = Assert.Throws<KdException>(() => DatasetReader.Read(temp.Path, imageSize: 8, loading: DatasetLoading.Streamed));

        Assert.Equal(KdErrorIds.DatasetStreamingUnsupported, error.ErrorId);
        Assert.Contains("ImageFolder", error.Message);
        Assert.Contains("Shard", error.Message);
    }

    /// <summary>Image i filled with i % 256; counts the images read so far and can fail at one image.</summary>
    private sealed class CountingSource(int count, int failAt = -1) : IImageSource
    {
        private int _read;
        public int Read => Volatile.Read(ref _read);
        public int Count => count;
        public int Channels => 1;
        public int Height => 2;
        public int Width => 2;

        void IImageSource.Read(int index, Span<byte> destination)
        {
            if (index == failAt)
                throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData, $"image {index} is unreadable");
            destination[..4].Fill((byte)index);
            Interlocked.Increment(ref _read);
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public void The_prefetcher_reads_ahead_but_never_more_than_its_buffers_hold()
    {
        const int batch = 4, prefetch = 2;
        var source = new CountingSource(64);
        using var set = new ImageSet(source, arange(64, ScalarType.Int64).remainder(3), new StreamingOptions(Workers: 2, PrefetchBatches: prefetch));
        using var loader = new BatchLoader(set, batch, shuffle: true);
        using var scope = NewDisposeScope();
        var order = loader.EpochOrder(9);

        var first = loader.GetBatch(order, 0);
        // The background reader fills every free buffer (the batches after the one taken), then waits for one to be freed.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (source.Read < (1 + prefetch) * batch && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Thread.Sleep(200);

        Assert.Equal((1 + prefetch) * batch, source.Read);
        var batches = new List<Batch> { first };
        for (int b = 1; b < loader.BatchCount; b++) batches.Add(loader.GetBatch(order, b));
        Assert.All(batches, b => Assert.True(TensorCompare.Identical(b.Images[.., 0, 0, 0].to_type(ScalarType.Int64), b.Indices)));
        Assert.Equal(64, source.Read);
    }

    [Fact]
    public void A_batch_read_out_of_sequence_restarts_the_prefetch_there()
    {
        var source = new CountingSource(20);
        using var set = new ImageSet(source, arange(20, ScalarType.Int64).remainder(2), TwoWorkers);
        using var loader = new BatchLoader(set, batchSize: 4, shuffle: true);
        using var scope = NewDisposeScope();
        var order = loader.EpochOrder(3);

        var resumed = loader.GetBatch(order, 3); // a resumed epoch starts mid-way
        var again = loader.GetBatch(order, 1);

        Assert.True(TensorCompare.Identical(resumed.Indices, order.narrow(0, 12, 4)));
        Assert.True(TensorCompare.Identical(resumed.Images[.., 0, 0, 0].to_type(ScalarType.Int64), resumed.Indices));
        Assert.True(TensorCompare.Identical(again.Images[.., 0, 0, 0].to_type(ScalarType.Int64), again.Indices));
    }

    [Fact]
    public void A_failure_in_the_background_reader_surfaces_at_its_batch()
    {
        var source = new CountingSource(12, failAt: 6);
        using var set = new ImageSet(source, zeros(12, ScalarType.Int64), TwoWorkers);
        using var loader = new BatchLoader(set, batchSize: 4, shuffle: false);
        using var scope = NewDisposeScope();
        var order = loader.EpochOrder(0);

        loader.GetBatch(order, 0);
        var error = Assert.Throws<KdException>(() => loader.GetBatch(order, 1));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, error.ErrorId);
        Assert.Equal("image 6 is unreadable", error.Message);
    }
}
