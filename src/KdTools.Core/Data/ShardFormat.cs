using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// A shard folder, <c>train.kdshard</c> and <c>test.kdshard</c> (<see cref="ShardFile"/>): streamed when large (or
/// asked to), else read into memory in one pass; either way nothing is decoded. The image size is the one the shard was
/// written at.
/// </summary>
[Registered]
internal sealed class ShardFormat : DatasetFormat
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
        using var train = ShardFile.Open(ShardFile.PathOf(folder, "train"));
        using var test = ShardFile.Open(ShardFile.PathOf(folder, "test"));
        var (h, t) = (train.Header, test.Header);
        if (t.Channels != h.Channels || t.Height != h.Height || t.Width != h.Width || t.Classes != h.Classes)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
                $"the shards in '{folder}' come from different datasets: train holds {h.Classes} classes of {h.Channels}x{h.Height}x{h.Width} " +
                $"images, test {t.Classes} classes of {t.Channels}x{t.Height}x{t.Width}; write both from one dataset", folder);
        var streaming = options.Streaming ?? StreamingOptions.Default;
        bool stream = StreamingOptions.Streams(options.Loading, ((long)h.Count + t.Count) * h.RecordBytes);
        var trainSet = Split(train, streaming, stream);
        try
        {
            return new KdDataset(h.Name, h.Source, h.Classes, trainSet, Split(test, streaming, stream), h.Mean, h.Std, h.ClassNames);
        }
        catch
        {
            trainSet.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The shard as a streamed split (reading from a second handle on the file, which the split owns), or read into
    /// memory in one pass.
    /// </summary>
    private static ImageSet Split(ShardReader reader, StreamingOptions streaming, bool stream)
    {
        if (stream) return new ImageSet(ShardFile.Open(reader.Path), tensor(reader.Labels.ToArray()), streaming);
        var images = empty([reader.Count, reader.Channels, reader.Height, reader.Width], ScalarType.Byte);
        // Whole images, up to ChunkBytes at a time (one image when an image is larger).
        int chunkImages = (int)Math.Clamp(ChunkBytes / reader.Header.RecordBytes, 1, Math.Max(1, reader.Count));
        var buffer = new byte[(long)chunkImages * reader.Header.RecordBytes];
        for (int start = 0; start < reader.Count; start += chunkImages)
        {
            int count = Math.Min(chunkImages, reader.Count - start);
            for (int i = 0; i < count; i++) reader.Read(start + i, buffer.AsSpan(i * reader.Header.RecordBytes));
            images.data<byte>().CopyFrom(new ReadOnlySpan<byte>(buffer, 0, count * reader.Header.RecordBytes), 0, (long)start * reader.Header.RecordBytes);
        }
        return new ImageSet(images, tensor(reader.Labels.ToArray()));
    }

    private const long ChunkBytes = 16L << 20;
}
