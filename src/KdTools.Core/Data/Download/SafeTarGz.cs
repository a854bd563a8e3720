using System.Formats.Tar;
using System.IO.Compression;

namespace KdTools.Core.Data.Download;

/// <summary>
/// Reads a .tar.gz archive from an untrusted source entry by entry (System.Formats.Tar over GZipStream). Only regular
/// files and folders are accepted, under relative names that stay inside the destination, with sizes that a dataset
/// archive can have: a link, a device, an absolute or <c>..</c> name or an absurd size makes the whole archive invalid
/// before anything outside a fresh staging folder is touched.
/// </summary>
internal static class SafeTarGz
{
    /// <summary>Largest file an archive may hold (CIFAR's largest is 154 MB; the npm strips are 23 MB).</summary>
    internal const long MaxEntryBytes = 1L << 30;

    /// <summary>Largest total of all files (CIFAR extracts to 185 MB).</summary>
    internal const long MaxTotalBytes = 4L << 30;

    internal const int MaxEntries = 10_000;

    /// <summary>One regular file of the archive: its relative name (forward slashes, no leading <c>./</c>) and its bytes.</summary>
    internal delegate void EntryHandler(string name, long length, Stream content);

    /// <summary>
    /// Calls <paramref name="onFile"/> for every regular file, in archive order, after checking its name and size.
    /// <paramref name="onProgress"/> gets the compressed bytes read so far.
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetArchiveInvalid"/> for an unsafe or damaged archive.</exception>
    public static void Read(string archive, EntryHandler onFile, Action<long>? onProgress, CancellationToken cancellation)
    {
        using var file = File.OpenRead(archive);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        long total = 0;
        int entries = 0;
        try
        {
            while (tar.GetNextEntry() is { } entry)
            {
                cancellation.ThrowIfCancellationRequested();
                if (++entries > MaxEntries)
                    throw Invalid(archive, $"it has more than {MaxEntries} entries");
                var name = SafeName(archive, entry.Name);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        continue;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        break;
                    default:
                        throw Invalid(archive, $"'{entry.Name}' is a {entry.EntryType} entry; a dataset archive holds only files and folders");
                }
                if (entry.Length > MaxEntryBytes)
                    throw Invalid(archive, $"'{entry.Name}' claims {entry.Length} bytes, more than any dataset file ({MaxEntryBytes})");
                total += entry.Length;
                if (total > MaxTotalBytes)
                    throw Invalid(archive, $"its files add up to more than {MaxTotalBytes} bytes");
                if (name.Length == 0) continue;
                onFile(name, entry.Length, entry.DataStream ?? Stream.Null);
                onProgress?.Invoke(file.Position);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException
                                       or ArgumentException or InvalidOperationException)
        {
            throw Invalid(archive, $"it is damaged or not a .tar.gz archive ({ex.Message})", ex);
        }
    }

    /// <summary>The name of the archive's first entry, or null when it is not a readable .tar.gz.</summary>
    public static string? FirstEntryName(string archive)
    {
        try
        {
            using var file = File.OpenRead(archive);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            return tar.GetNextEntry()?.Name;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or ArgumentException
                                       or InvalidOperationException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Extracts every file under <paramref name="destination"/> (which must be a fresh, empty folder), each name checked
    /// to stay inside it.
    /// </summary>
    public static void Extract(string archive, string destination, Action<long>? onProgress, CancellationToken cancellation)
    {
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        Read(archive, (name, _, content) =>
        {
            var target = Path.GetFullPath(Path.Combine(root, name));
            if (!target.StartsWith(root, StringComparison.Ordinal))
                throw Invalid(archive, $"'{name}' would be written outside the destination folder");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
            content.CopyTo(output);
        }, onProgress, cancellation);
    }

    /// <summary>An entry's name as a relative path, or an error when it is absolute or climbs out with <c>..</c>.</summary>
    private static string SafeName(string archive, string raw)
    {
        var name = raw.Replace('\\', '/');
        if (name.StartsWith('/') || name.Contains(':') || name.Contains('\0'))
            throw Invalid(archive, $"'{raw}' is an absolute name; a dataset archive holds relative names only");
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(part => part != ".").ToList();
        if (parts.Any(part => part == ".."))
            throw Invalid(archive, $"'{raw}' climbs out of the archive's folder with '..'");
        return string.Join('/', parts);
    }

    private static KdException Invalid(string archive, string reason, Exception? inner = null) =>
        new(KdErrorIds.DatasetArchiveInvalid, KdErrorKind.InvalidData,
            $"'{archive}' is not a safe dataset archive: {reason}; download the official archive again, or pass the " +
            "right file with -Source", archive, inner);
}
