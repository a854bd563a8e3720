using System.Runtime.ExceptionServices;
using StbImageSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Reads an image-folder dataset, the layout of torchvision's <c>ImageFolder</c>: <c>train/&lt;class&gt;/*.png</c> and
/// <c>test/&lt;class&gt;/*.png</c> (or <c>val/</c>). Classes are the train split's subfolders in ordinal name order, so
/// label numbers match torchvision's. PNG, JPEG, BMP, TGA and GIF (first frame) are decoded in managed code to RGB and
/// resized to a square side with antialiased bilinear interpolation when their size differs. A folder is decoded into
/// memory as uint8, or streamed (<see cref="DatasetLoading"/>): each image decoded when its batch is read, by parallel
/// workers ahead of training, the same bytes either way. Opening a streamed folder decodes the training split once for
/// its channel statistics; a shard (<see cref="ShardFile"/>) needs no decoding at all.
/// </summary>
public static class ImageFolderReader
{
    public const string TrainFolderName = "train";

    /// <summary>Names accepted for the held-out split, in order of preference.</summary>
    public static readonly IReadOnlyList<string> TestFolderNames = ["test", "val"];

    /// <summary>File extensions read as images (case-insensitive); other files, such as a README, are skipped.</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif"];

    private const int Channels = 3;

    /// <summary>Whether <paramref name="folder"/> has a <c>train</c> subfolder and a <c>test</c> or <c>val</c> one.</summary>
    public static bool HasLayout(string folder) =>
        Directory.Exists(Path.Combine(folder, TrainFolderName)) && FindTestFolder(folder) is not null;

    /// <summary>Reads both splits of <paramref name="folder"/>, every image resized to <paramref name="imageSize"/> pixels square.</summary>
    /// <param name="loading">In memory, streamed, or streamed when the decoded images exceed <see cref="StreamingOptions.AutomaticThresholdBytes"/>.</param>
    public static KdDataset Read(string folder, int imageSize, DatasetLoading loading = DatasetLoading.InMemory, StreamingOptions? streaming = null)
    {
        if (imageSize < 1)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"image size must be positive, got {imageSize}", imageSize);
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
            throw new KdException(KdErrorIds.DatasetPathMissing, KdErrorKind.ObjectNotFound,
                $"dataset folder '{root}' does not exist", root);
        var trainFolder = Path.Combine(root, TrainFolderName);
        var testFolder = FindTestFolder(root);
        if (!Directory.Exists(trainFolder) || testFolder is null)
            throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                $"image folder '{root}' needs a '{TrainFolderName}' and a '{string.Join("' or '", TestFolderNames)}' subfolder, " +
                "each with one subfolder of images per class", root);

        var classNames = Directory.GetDirectories(trainFolder).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToList();
        if (classNames.Count < 2)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
                $"'{trainFolder}' has {classNames.Count} class subfolder(s); a classification dataset needs at least 2", trainFolder);

        var trainFiles = ListSplit(trainFolder, classNames);
        var testFiles = ListSplit(testFolder, classNames);
        bool stream = StreamingOptions.Streams(loading, ((long)trainFiles.Count + testFiles.Count) * Channels * imageSize * imageSize);
        ImageSet Split(List<(string File, long Label)> files) => stream
            ? new ImageSet(new ImageFolderSource(files.Select(f => f.File).ToList(), imageSize), from_array(files.Select(f => f.Label).ToArray()),
                streaming ?? StreamingOptions.Default)
            : DecodeSplit(files, imageSize);
        var train = Split(trainFiles);
        try
        {
            var test = Split(testFiles);
            var (mean, std) = ChannelStatistics.Compute(train);
            return new KdDataset("imagefolder", root, classNames.Count, train, test, mean, std, classNames);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static string? FindTestFolder(string root) =>
        TestFolderNames.Select(name => Path.Combine(root, name)).FirstOrDefault(Directory.Exists);

    /// <summary>The image files of a split with their labels, class by class, in ordinal name order.</summary>
    private static List<(string File, long Label)> ListSplit(string splitFolder, IReadOnlyList<string> classNames)
    {
        var unknown = Directory.GetDirectories(splitFolder).Select(Path.GetFileName).OfType<string>()
            .Where(name => !classNames.Contains(name, StringComparer.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
                $"'{splitFolder}' has class folder(s) {string.Join(", ", unknown)} that the train split lacks; " +
                $"known classes: {string.Join(", ", classNames)}", splitFolder);

        var files = new List<(string File, long Label)>();
        for (int label = 0; label < classNames.Count; label++)
        {
            var classFolder = Path.Combine(splitFolder, classNames[label]);
            if (!Directory.Exists(classFolder)) continue; // a held-out split may lack a class
            files.AddRange(Directory.GetFiles(classFolder)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal).Select(f => (f, (long)label)));
        }
        if (files.Count == 0)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
                $"'{splitFolder}' holds no images ({string.Join(", ", ImageExtensions)}) in its class subfolders", splitFolder);
        return files;
    }

    private static ImageSet DecodeSplit(List<(string File, long Label)> files, int imageSize)
    {
        // Decoding is managed code and dominates on large folders, so it runs in parallel; tensors are made afterwards.
        var decoded = new ImageResult[files.Count];
        try
        {
            Parallel.For(0, files.Count, i => decoded[i] = Decode(files[i].File));
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(inner => inner is KdException) is { } first)
        {
            ExceptionDispatchInfo.Throw(first); // report one bad file the way a sequential read would
        }

        using var scope = NewDisposeScope();
        var images = zeros(files.Count, Channels, imageSize, imageSize, dtype: ScalarType.Byte);
        for (int i = 0; i < decoded.Length; i++)
        {
            using var imageScope = NewDisposeScope();
            images[i].copy_(ToTensor(decoded[i], imageSize));
            decoded[i] = null!; // release the pixels as we go
        }
        var labels = from_array(files.Select(f => f.Label).ToArray());
        return new ImageSet(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>Decodes one image file to RGB pixels (managed code, safe to call in parallel).</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetFileCorrupt"/> when it is not a readable image.</exception>
    internal static ImageResult Decode(string file)
    {
        var bytes = File.ReadAllBytes(file);
        try
        {
            RequirePlausibleSize(bytes, file);
            return ImageResult.FromStream(new EndClampedStream(bytes), ColorComponents.RedGreenBlue);
        }
        // stb_image reports a bad file with a plain Exception naming the reason, or, for some damaged files (a PNG
        // header without image data), with a message of NUL characters; a damaged PNG can also make it seek outside
        // its data (IOException). Only running out of memory is not the file's fault.
        catch (Exception e) when (e is not (KdException or OutOfMemoryException))
        {
            var said = new string(e.Message.Where(c => !char.IsControl(c)).ToArray()).Trim();
            var reason = said.Length == 0 ? "the decoder gave no reason: the file is truncated or damaged" : said;
            throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                $"'{file}' is not a readable image ({reason}); remove it or replace it with a PNG, JPEG, BMP, TGA or GIF file", file);
        }
    }

    /// <summary>
    /// Refuses, before decoding, an image whose header declares more pixels than its file can hold: no decoder expands
    /// its data by more than deflate's 1,032:1 (PNG; JPEG, BMP and TGA stay far below), so a 60-byte file that claims
    /// 30,000 x 30,000 pixels is damaged or a decompression bomb, and decoding it would take gigabytes. Up to a megapixel is
    /// always decoded, whatever the file's size.
    /// </summary>
    private static void RequirePlausibleSize(byte[] bytes, string file)
    {
        RequireCompletePngChunks(bytes, file);
        if (ImageInfo.FromStream(new EndClampedStream(bytes)) is not { } info) return; // the decoder says why
        long decoded = 4L * info.Width * info.Height;
        long limit = MinimumDecodableBytes + MaximumExpansion * bytes.LongLength;
        if (info.Width > 0 && info.Height > 0 && decoded <= limit) return;
        throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
            $"'{file}' declares {info.Width}x{info.Height} pixels, more than its {bytes.Length:N0} bytes can hold: it is damaged " +
            "(or built to exhaust memory); replace it with a PNG, JPEG, BMP or TGA file", file);
    }

    /// <summary>
    /// stb_image allocates a PNG chunk's declared length (twice, in managed and native memory) before it finds that the
    /// file is shorter, so a 46-byte file declaring a 134 MB chunk took 400 MB; a PNG whose chunks run past its end is
    /// refused here instead.
    /// </summary>
    private static void RequireCompletePngChunks(byte[] bytes, string file)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (!bytes.AsSpan().StartsWith(signature)) return;
        for (long at = signature.Length; at < bytes.Length;)
        {
            if (at + 8 > bytes.Length) break; // no complete length and type: stb_image reports it without allocating
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)at));
            if (at + 12 + length > bytes.Length)
                throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                    $"'{file}' is truncated: a {length:N0}-byte PNG chunk at byte {at:N0} runs past the end of the file; " +
                    "replace it with a complete copy", file);
            if (bytes.AsSpan((int)at + 4, 4).SequenceEqual("IEND"u8)) break;
            at += 12 + length;
        }
    }

    /// <summary>
    /// The file's bytes for stb_image, with seeks past the end stopping at the end. stb_image skips a segment by seeking
    /// over its declared length and tests for the end of the data with <c>Position == Length</c>, so a JPEG segment that
    /// claims more bytes than the file has would leave it past the end, reading zeros forever (a 48-byte file hung the
    /// reader); stopped at the end, it sees the end and reports the file as truncated.
    /// </summary>
    private sealed class EndClampedStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public override long Seek(long offset, SeekOrigin loc)
        {
            long target = loc switch { SeekOrigin.Current => Position + offset, SeekOrigin.End => Length + offset, _ => offset };
            return base.Seek(Math.Min(target, Length), SeekOrigin.Begin);
        }
    }

    /// <summary>Deflate's largest expansion, the bound of <see cref="RequirePlausibleSize"/>.</summary>
    internal const long MaximumExpansion = 1032;

    private const long MinimumDecodableBytes = 4L << 20;

    /// <summary>The image files of a streamed split, each decoded and resized when read (on any thread).</summary>
    private sealed class ImageFolderSource(IReadOnlyList<string> files, int side) : IImageSource
    {
        public int Count => files.Count;
        public int Channels => ImageFolderReader.Channels;
        public int Height => side;
        public int Width => side;

        public void Read(int index, Span<byte> destination)
        {
            using var scope = NewDisposeScope();
            ToTensor(Decode(files[index]), side).contiguous().data<byte>().CopyTo(destination[..(Channels * side * side)], 0, 0);
        }

        public void Dispose()
        {
        }
    }

    /// <summary>[3, side, side] uint8: the decoded HWC pixels as CHW, resized when the image is not already that size.</summary>
    internal static Tensor ToTensor(ImageResult image, int side)
    {
        var pixels = tensor(image.Data, [image.Height, image.Width, Channels], ScalarType.Byte).permute(2, 0, 1);
        if (image.Height == side && image.Width == side) return pixels;
        // Antialiasing matters when shrinking (photos to CIFAR size); without it bilinear sampling aliases badly.
        var resized = nn.functional.interpolate(pixels.unsqueeze(0).to(ScalarType.Float32), [side, side],
            mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        return resized.squeeze(0).round().clamp(0, 255).to(ScalarType.Byte);
    }
}
