using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// A shard folder, <c>train.kdshard</c> and <c>test.kdshard</c> (<see cref="ShardFile"/>): streamed when large (or
/// asked to), else read into memory in one pass; either way nothing is decoded. The image size is the one the shard was
/// written at.
/// </summary>
public sealed class ShardFormat : DatasetFormat
{
    public override string Name => "Shard";
    public override string Description => "KdTools shards: train.kdshard and test.kdshard, packed uint8 images written once from any dataset";
    public override PredictionTask Task => PredictionTask.Classification;
    public override string Layout => $"'train{ShardFile.Extension}' and 'test{ShardFile.Extension}' shard files";
    public override int DetectionOrder => 5;
    public override bool CanStream => true;

    public override bool Recognizes(string folder) =>
        File.Exists(ShardFile.PathOf(folder, "train")) && File.Exists(ShardFile.PathOf(folder, "test"));

    public override KdDataset Read(string folder, DatasetReadOptions options)
    {
        foreach (var split in new[] { "train", "test" })
            if (!File.Exists(ShardFile.PathOf(folder, split)))
                throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                    $"shard folder '{folder}' has no '{split}{ShardFile.Extension}'; write both splits of the dataset there again", folder);
        var train = ShardFile.Open(ShardFile.PathOf(folder, "train"));
        ShardReader? test = null;
        try
        {
            test = ShardFile.Open(ShardFile.PathOf(folder, "test"));
            var (h, t) = (train.Header, test.Header);
            if (t.Channels != h.Channels || t.Height != h.Height || t.Width != h.Width || t.Classes != h.Classes)
                throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
                    $"the shards in '{folder}' come from different datasets: train holds {h.Classes} classes of {h.Channels}x{h.Height}x{h.Width} " +
                    $"images, test {t.Classes} classes of {t.Channels}x{t.Height}x{t.Width}; write both from one dataset", folder);
            long bytes = ((long)h.Count + t.Count) * h.RecordBytes;
            var streaming = options.Streaming ?? StreamingOptions.Default;
            bool stream = StreamingOptions.Streams(options.Loading, bytes);
            var trainSet = Split(train, streaming, stream);
            train = null!; // owned by the split now
            try
            {
                var testSet = Split(test, streaming, stream);
                test = null;
                return new KdDataset(h.Name, h.Source, h.Classes, trainSet, testSet, h.Mean, h.Std, h.ClassNames);
            }
            catch
            {
                trainSet.Dispose();
                throw;
            }
        }
        finally
        {
            train?.Dispose();
            test?.Dispose();
        }
    }

    /// <summary>The shard as a streamed split, or read into memory (and closed).</summary>
    private static ImageSet Split(ShardReader reader, StreamingOptions streaming, bool stream)
    {
        var streamed = new ImageSet(reader, tensor(reader.Labels.ToArray()), streaming);
        if (stream) return streamed;
        using (streamed)
        {
            var images = empty([streamed.Count, streamed.Channels, streamed.Height, streamed.Width], ScalarType.Byte);
            int start = 0;
            foreach (var chunk in streamed.Chunks(1024))
                using (chunk)
                {
                    images.narrow(0, start, chunk.shape[0]).copy_(chunk);
                    start += (int)chunk.shape[0];
                }
            return new ImageSet(images, streamed.Labels.clone());
        }
    }
}
