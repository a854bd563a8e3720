namespace KdTools.Core.Data;

/// <summary>The on-disk dataset layouts KdTools reads.</summary>
public enum DatasetFormat
{
    /// <summary>Decide from the folder's contents: CIFAR files, then <c>train.csv</c>/<c>test.csv</c>, then <c>train/</c> + <c>test/</c>.</summary>
    Auto,

    /// <summary>CIFAR-10/100 binary (<see cref="CifarReader"/>).</summary>
    Cifar,

    /// <summary>One image per CSV row (<see cref="CsvImageReader"/>).</summary>
    Csv,

    /// <summary>Class subfolders of image files (<see cref="ImageFolderReader"/>).</summary>
    ImageFolder,
}

/// <summary>Reads a dataset folder in any of the supported layouts.</summary>
public static class DatasetReader
{
    /// <param name="path">The dataset folder.</param>
    /// <param name="format">Its layout, or <see cref="DatasetFormat.Auto"/> to detect it.</param>
    /// <param name="imageSize">CSV: the side of the square images in the rows; image folders: the side images are resized to. CIFAR is always 32.</param>
    /// <param name="channels">CSV only: channels per image.</param>
    public static KdDataset Read(string path, DatasetFormat format = DatasetFormat.Auto, int imageSize = 32, int channels = 3)
    {
        var root = Path.GetFullPath(path);
        if (!Directory.Exists(root))
            throw new KdException(KdErrorIds.DatasetPathMissing, KdErrorKind.ObjectNotFound,
                $"dataset folder '{root}' does not exist; pass a CIFAR binary folder, a folder with train.csv and test.csv, " +
                "or an image folder with train/ and test/ class subfolders (or use -Synthetic)", root);
        return (format == DatasetFormat.Auto ? Detect(root) : format) switch
        {
            DatasetFormat.Cifar => CifarReader.Read(root),
            DatasetFormat.Csv => CsvImageReader.Read(root, channels, imageSize, imageSize),
            DatasetFormat.ImageFolder => ImageFolderReader.Read(root, imageSize),
            var other => throw new ArgumentOutOfRangeException(nameof(format), other, null),
        };
    }

    /// <summary>The layout of <paramref name="root"/>, which exists.</summary>
    public static DatasetFormat Detect(string root)
    {
        if (CifarReader.HasLayout(root)) return DatasetFormat.Cifar;
        if (File.Exists(Path.Combine(root, CsvImageReader.TrainFileName)) || File.Exists(Path.Combine(root, CsvImageReader.TestFileName)))
            return DatasetFormat.Csv;
        if (ImageFolderReader.HasLayout(root)) return DatasetFormat.ImageFolder;
        throw new KdException(KdErrorIds.DatasetFormatUnknown, KdErrorKind.InvalidData,
            $"'{root}' is not a dataset folder KdTools knows: expected CIFAR-10/100 binary files (data_batch_1.bin… or " +
            $"train.bin/test.bin), {CsvImageReader.TrainFileName} and {CsvImageReader.TestFileName}, or '{ImageFolderReader.TrainFolderName}' and " +
            $"'{ImageFolderReader.TestFolderNames[0]}' subfolders holding one folder of images per class", root);
    }
}
