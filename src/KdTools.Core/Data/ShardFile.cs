using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using KdTools.Core.IO;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// A packed split of a classification dataset, <c>train.kdshard</c> or <c>test.kdshard</c>: written once from any
/// dataset (<see cref="WriteDataset"/>), then read image by image without decoding. Layout, little-endian:
/// <code>
/// magic      8 bytes   "KDSHARD" 0x00
/// version    uint32    1
/// headerSize uint32    bytes of the header
/// header     UTF-8 JSON: split, count, channels, height, width, classes, classNames, mean, std, name, source
/// labels     int64 × count
/// checksums  uint32 × count    CRC-32 of each record
/// records    count × (channels·height·width) bytes: uint8 pixels, channel-major (CHW), already at the dataset's size
/// </code>
/// Records are raw pixels, not PNG: a training run reads every image once per epoch, and decoding is what costs
/// there (cores are the scarce resource on the machines this runs on), while a raw record is one positional read. Every
/// record has the same size, so image i is at a computed offset (no offset table) and a truncated file shows in its
/// length. The records are the bytes of the in-memory uint8 tensor, so a run on a shard is bit-identical to the run in
/// memory and the dataset's fingerprint is computed from the file without decoding. The price is disk space: a shard
/// is as large as the decoded dataset (Tiny-ImageNet at 64 px: 1.35 GB), more than compressed PNG or JPEG files.
/// </summary>
public static class ShardFile
{
    /// <summary>The file extension of a shard.</summary>
    public const string Extension = ".kdshard";

    /// <summary>The version this KdTools writes and reads.</summary>
    public const int Version = 1;

    private static ReadOnlySpan<byte> Magic => "KDSHARD\0"u8;
    private const int PrefixBytes = 16; // magic, version, header size
    private const int ImagesPerChunk = 1024;
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The file of <paramref name="split"/> (<c>train</c> or <c>test</c>) in a shard folder.</summary>
    public static string PathOf(string folder, string split) => Path.Combine(folder, split + Extension);

    /// <summary>What a shard's header holds: its split, the image shape, and the dataset it was written from.</summary>
    public sealed record Header(string Split, int Count, int Channels, int Height, int Width, int Classes,
        IReadOnlyList<string> ClassNames, float[] Mean, float[] Std, string Name, string Source)
    {
        [System.Text.Json.Serialization.JsonIgnore]
        public int RecordBytes => Channels * Height * Width;
    }

    /// <summary>
    /// Writes both splits of <paramref name="dataset"/> (in memory or streamed, read 1024 images at a time) as
    /// <c>train.kdshard</c> and <c>test.kdshard</c> in <paramref name="folder"/>, creating it; each file is written
    /// atomically and replaces an existing one.
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetInvalid"/> for a segmentation dataset;
    /// <see cref="KdErrorIds.DatasetWriteFailed"/> when a file cannot be written.</exception>
    public static void WriteDataset(string folder, KdDataset dataset, CancellationToken cancellation = default)
    {
        if (dataset.Task != PredictionTask.Classification)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"dataset '{dataset.Name}' holds {dataset.Task} labels; shards hold classification datasets (one class per image)");
        foreach (var (split, set) in new[] { ("train", dataset.Train), ("test", dataset.Test) })
        {
            var header = new Header(split, set.Count, set.Channels, set.Height, set.Width, dataset.Classes,
                dataset.ClassNames, dataset.Mean, dataset.Std, dataset.Name, dataset.Source);
            AtomicFile.Write(PathOf(folder, split), stream => WriteSplit(stream, header, set, cancellation),
                KdErrorIds.DatasetWriteFailed, "shard");
        }
    }

    private static void WriteSplit(Stream stream, Header header, ImageSet set, CancellationToken cancellation)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        Span<byte> prefix = stackalloc byte[PrefixBytes];
        Magic.CopyTo(prefix);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix[12..], (uint)json.Length);
        stream.Write(prefix);
        stream.Write(json);
        var labels = new byte[8L * header.Count];
        var values = set.Labels.data<long>().ToArray();
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(labels.AsSpan(8 * i), values[i]);
        stream.Write(labels);

        // The checksums precede the records, so they are written last, over a placeholder.
        long checksumsAt = stream.Position;
        var checksums = new byte[4L * header.Count];
        stream.Write(checksums);
        int recordBytes = header.RecordBytes, image = 0;
        var pixels = new byte[(long)ImagesPerChunk * recordBytes];
        foreach (var chunk in set.Chunks(ImagesPerChunk))
        {
            cancellation.ThrowIfCancellationRequested();
            int count = (int)chunk.shape[0];
            using (chunk)
            using (var contiguous = chunk.contiguous())
                contiguous.data<byte>().CopyTo(pixels.AsSpan(0, count * recordBytes), 0, 0);
            for (int i = 0; i < count; i++, image++)
                BinaryPrimitives.WriteUInt32LittleEndian(checksums.AsSpan(4 * image), Crc32.HashToUInt32(pixels.AsSpan(i * recordBytes, recordBytes)));
            stream.Write(pixels, 0, count * recordBytes);
        }
        stream.Position = checksumsAt;
        stream.Write(checksums);
        stream.Seek(0, SeekOrigin.End);
    }

    /// <summary>
    /// Opens a shard file for reading; the returned reader holds the file open until disposed. The header, the length,
    /// the labels and the checksum table are checked here; each record's checksum when it is read.
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetFileCorrupt"/> for a file that is not a shard, is
    /// truncated or has a damaged header; <see cref="KdErrorIds.DatasetInvalid"/> for a shard of a newer version.</exception>
    public static ShardReader Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            return ReadIndex(path, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static ShardReader ReadIndex(string path, SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        Span<byte> prefix = stackalloc byte[PrefixBytes];
        if (length < PrefixBytes || RandomAccess.Read(handle, prefix, 0) < PrefixBytes || !prefix[..8].SequenceEqual(Magic))
            throw Corrupt(path, "it does not start with a KdTools shard's signature, so it is not a shard or its start is damaged");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (version != Version)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
                $"shard '{path}' is format version {version}, and this KdTools reads version {Version}; rewrite it with this KdTools " +
                "from the original dataset", path);
        uint headerBytes = BinaryPrimitives.ReadUInt32LittleEndian(prefix[12..]);
        if (headerBytes > length - PrefixBytes)
            throw Corrupt(path, $"its header claims {headerBytes} bytes but the file has {length} in all: it is truncated");
        var json = new byte[headerBytes];
        RandomAccess.Read(handle, json, PrefixBytes);
        Header header;
        try
        {
            header = JsonSerializer.Deserialize<Header>(json, Json) ?? throw new JsonException("empty header");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            throw Corrupt(path, $"its header is not readable ({e.Message})");
        }
        if (header.Count < 0 || header.Channels < 1 || header.Height < 1 || header.Width < 1 || header.Classes < 2
            || header.Mean?.Length != header.Channels || header.Std?.Length != header.Channels || header.ClassNames?.Count != header.Classes
            || header.ClassNames.Any(name => name is null) || header.Name is null || header.Source is null || header.Split is null
            || !header.Mean.All(float.IsFinite) || !header.Std.All(std => float.IsFinite(std) && std > 0))
            throw Corrupt(path, "its header describes no valid dataset (counts, shape, classes, names or statistics are missing or inconsistent)");
        // One image must fit a managed buffer; the product is checked before RecordBytes multiplies it in 32 bits.
        if ((long)header.Channels * header.Height * header.Width > Array.MaxLength)
            throw Corrupt(path, $"its header declares {header.Channels}x{header.Height}x{header.Width} images, larger than an image can be");

        long labelsAt = PrefixBytes + headerBytes, checksumsAt = labelsAt + 8L * header.Count, recordsAt = checksumsAt + 4L * header.Count;
        long expected = recordsAt + (long)header.Count * header.RecordBytes;
        if (length != expected)
            throw Corrupt(path, length < expected
                ? $"it is truncated: {length} bytes where {header.Count} images of {header.Channels}x{header.Height}x{header.Width} need {expected}"
                : $"it has {length - expected} bytes after its last record: it was not written by KdTools or was appended to");

        var labelBytes = new byte[8L * header.Count];
        RandomAccess.Read(handle, labelBytes, labelsAt);
        var labels = new long[header.Count];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = BinaryPrimitives.ReadInt64LittleEndian(labelBytes.AsSpan(8 * i));
            if (labels[i] < 0 || labels[i] >= header.Classes)
                throw Corrupt(path, $"image {i} has label {labels[i]}, outside the {header.Classes} classes of its header");
        }
        var checksumBytes = new byte[4L * header.Count];
        RandomAccess.Read(handle, checksumBytes, checksumsAt);
        var checksums = new uint[header.Count];
        for (int i = 0; i < checksums.Length; i++) checksums[i] = BinaryPrimitives.ReadUInt32LittleEndian(checksumBytes.AsSpan(4 * i));
        return new ShardReader(path, handle, header, labels, checksums, recordsAt);
    }

    internal static KdException Corrupt(string path, string why) =>
        new(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
            $"shard '{path}' is damaged: {why}; rebuild it from the original dataset", path);
}

/// <summary>The images of one open shard file (<see cref="ShardFile"/>): positional reads, safe from many threads.</summary>
public sealed class ShardReader : IImageSource
{
    private readonly SafeFileHandle _handle;
    private readonly uint[] _checksums;
    private readonly long _recordsAt;

    internal ShardReader(string path, SafeFileHandle handle, ShardFile.Header header, long[] labels, uint[] checksums, long recordsAt)
    {
        Path = path;
        _handle = handle;
        Header = header;
        Labels = labels;
        _checksums = checksums;
        _recordsAt = recordsAt;
    }

    /// <summary>The shard file.</summary>
    public string Path { get; }

    public ShardFile.Header Header { get; }

    /// <summary>The class of every image, from the file's label table.</summary>
    public IReadOnlyList<long> Labels { get; }

    public int Count => Header.Count;
    public int Channels => Header.Channels;
    public int Height => Header.Height;
    public int Width => Header.Width;

    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetFileCorrupt"/> when the record fails its checksum or
    /// the file has shrunk since it was opened.</exception>
    public void Read(int index, Span<byte> destination)
    {
        int bytes = Header.RecordBytes;
        var record = destination[..bytes];
        long at = _recordsAt + (long)index * bytes;
        for (int done = 0; done < bytes;)
        {
            int read = RandomAccess.Read(_handle, record[done..], at + done);
            if (read == 0) throw ShardFile.Corrupt(Path, $"it ends inside image {index}: it was truncated after it was opened");
            done += read;
        }
        if (Crc32.HashToUInt32(record) != _checksums[index])
            throw ShardFile.Corrupt(Path, $"image {index} does not match its checksum");
    }

    public void Dispose() => _handle.Dispose();
}
