namespace KdTools.Core.Data;

/// <summary>Reads a dataset folder in any registered layout (<see cref="DatasetFormatRegistry"/>).</summary>
public static class DatasetReader
{
    /// <summary>The value of <paramref name="format"/> that asks for detection, like leaving it out.</summary>
    public const string DetectFormat = "Auto";

    /// <param name="path">The dataset folder.</param>
    /// <param name="format">A registered format name; null or <see cref="DetectFormat"/> detects it from the folder.</param>
    /// <param name="imageSize">CSV: the side of the square images in the rows; image files: the side they are resized to. CIFAR is always 32.</param>
    /// <param name="channels">CSV only: channels per image.</param>
    /// <param name="loading">In memory, streamed (image folders and shards), or by size (<see cref="DatasetLoading.Auto"/>).</param>
    /// <param name="trainCount">Keep only this many training images, class-balanced (<see cref="TrainingSubset"/>); null keeps all.</param>
    public static KdDataset Read(string path, string? format = null, int imageSize = 32, int channels = 3,
        DatasetLoading loading = DatasetLoading.Auto, int? trainCount = null)
    {
        if (trainCount is not { } count) return ReadWhole(path, format, imageSize, channels, loading);
        using var whole = ReadWhole(path, format, imageSize, channels, loading);
        return TrainingSubset.Take(whole, count);
    }

    private static KdDataset ReadWhole(string path, string? format, int imageSize, int channels, DatasetLoading loading)
    {
        var chosen = string.IsNullOrEmpty(format) || format.Equals(DetectFormat, StringComparison.OrdinalIgnoreCase)
            ? null : DatasetFormatRegistry.Get(format);
        var root = Path.GetFullPath(path);
        if (File.Exists(root))
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"'{root}' is a file, not a dataset folder; pass the folder that holds the dataset" +
                (Path.GetDirectoryName(root) is { } parent && DatasetFormatRegistry.All.Any(f => f.Recognizes(parent)) ? $" ('{parent}')" : ""),
                root);
        if (!Directory.Exists(root))
            throw new KdException(KdErrorIds.DatasetPathMissing, KdErrorKind.ObjectNotFound,
                $"dataset folder '{root}' does not exist; pass a folder holding {DatasetFormatRegistry.DescribeLayouts()} " +
                "(or use the synthetic dataset)", root);
        var reader = chosen ?? DatasetFormatRegistry.Detect(root);
        if (loading == DatasetLoading.Streamed && !reader.CanStream)
            throw new KdException(KdErrorIds.DatasetStreamingUnsupported, KdErrorKind.InvalidArgument,
                $"'{root}' is a {reader.Name} dataset, which is read into memory; streaming reads image folders and shard folders " +
                $"({string.Join(", ", DatasetFormatRegistry.All.Where(f => f.CanStream).Select(f => f.Name))}): read it into memory, " +
                "or write it once as a shard folder and stream that", root);
        return reader.Read(root, new DatasetReadOptions(imageSize, channels, loading));
    }

    /// <summary>The format of <paramref name="root"/>, which exists.</summary>
    public static DatasetFormat Detect(string root) => DatasetFormatRegistry.Detect(root);
}
