namespace KdTools.Core.Data.Download;

/// <summary>
/// A dataset that <see cref="DatasetDownload"/> fetches from its authors' published archive: where it lives, its
/// checksum, and what the archive must contain once extracted.
/// </summary>
/// <param name="Name">The name users type (<c>CIFAR10</c>).</param>
/// <param name="FileName">The archive's file name on the authors' page.</param>
/// <param name="Md5">The archive's published MD5, lower-case hex.</param>
/// <param name="Folder">The folder the archive extracts to; it is what <see cref="CifarReader"/> reads.</param>
/// <param name="Files">The files that folder must hold.</param>
/// <param name="ApproximateBytes">The archive's size, for messages and progress before the server says.</param>
public sealed record DatasetArchive(string Name, string FileName, string Md5, string Folder, string[] Files, long ApproximateBytes)
{
    /// <summary>The dataset authors' page (Alex Krizhevsky's CIFAR page) that the archives are published on.</summary>
    public static readonly Uri DefaultBaseUri = new("https://www.cs.toronto.edu/~kriz/");

    public static readonly DatasetArchive Cifar10 = new(
        "CIFAR10", "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", "cifar-10-batches-bin",
        [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin"), "test_batch.bin", "batches.meta.txt"],
        170_052_171);

    public static readonly DatasetArchive Cifar100 = new(
        "CIFAR100", "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8", "cifar-100-binary",
        ["train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt"],
        168_513_733);

    /// <summary>Every archive <see cref="DatasetDownload"/> knows, by name.</summary>
    public static IReadOnlyList<DatasetArchive> All { get; } = [Cifar10, Cifar100];

    /// <summary>The archive named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetArgumentInvalid"/> for a name no archive has.</exception>
    public static DatasetArchive Find(string name) =>
        All.FirstOrDefault(archive => string.Equals(archive.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KdException(KdErrorIds.DatasetArgumentInvalid, KdErrorKind.InvalidArgument,
            UnknownName.Message("dataset", name, All.Select(archive => archive.Name)), name);

    /// <summary>Whether <paramref name="folder"/> holds every file of the extracted archive.</summary>
    internal bool IsExtractedIn(string folder) => Files.All(file => File.Exists(Path.Combine(folder, file)));
}
