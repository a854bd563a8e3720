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

    /// <summary>Longest relative name an entry may have.</summary>
    internal const int MaxNameLength = 1024;

    /// <summary>One regular file of the archive: its relative name (forward slashes, no leading <c>./</c>) and its bytes.</summary>
    internal delegate void EntryHandler(string name, long length, Stream content);

    /// <summary>
    /// Calls <paramref name="onFile"/> for every regular file, in archive order, after checking its name and size.
    /// <paramref name="onProgress"/> gets the compressed bytes read so far.
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetArchiveInvalid"/> for an unsafe or damaged archive.</exception>
    public static void Read(string archive, EntryHandler onFile, Action<long>? onProgress, CancellationToken cancellation)
    {
        RequireSmallMetadata(archive);
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
        // OverflowException: found by fuzzing, System.Formats.Tar throws it for a size or time field beyond 64 bits.
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException
                                       or ArgumentException or InvalidOperationException or OverflowException)
        {
            throw Invalid(archive, $"it is damaged or not a .tar.gz archive ({ex.Message})", ex);
        }
    }

    /// <summary>Largest metadata entry (a GNU long name, a PAX header) an archive may hold.</summary>
    internal const long MaxMetadataBytes = 1L << 20;

    /// <summary>
    /// Found by fuzzing: System.Formats.Tar reads a GNU long-name or PAX metadata entry into memory at the size its header
    /// claims, so a 195-byte archive claiming a 1 GB long name took 1 GB. This pass reads the raw 512-byte headers first
    /// (skipping the data) and refuses a metadata entry above <see cref="MaxMetadataBytes"/>; anything it cannot parse is
    /// left to the reader, which reports it.
    /// </summary>
    private static void RequireSmallMetadata(string archive)
    {
        try
        {
            using var file = File.OpenRead(archive);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            var header = new byte[512];
            while (gzip.ReadAtLeast(header, 512, throwOnEndOfStream: false) == 512 && header.AsSpan().ContainsAnyExcept((byte)0))
            {
                if (ParseSize(header.AsSpan(124, 12)) is not { } size) return;
                byte type = header[156];
                if (type is (byte)'L' or (byte)'K' or (byte)'x' or (byte)'g' && size > MaxMetadataBytes)
                    throw Invalid(archive, $"a metadata entry claims {size} bytes, more than {MaxMetadataBytes} (a name or header that long is no dataset's)");
                for (long left = (size + 511) / 512 * 512; left > 0;)
                {
                    int read = gzip.Read(header, 0, (int)Math.Min(512, left));
                    if (read == 0) return;
                    left -= read;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            // A damaged stream: the reader reports it.
        }
    }

    /// <summary>A header's size field: octal digits (space or NUL terminated), or GNU's base-256; null when unreadable.</summary>
    private static long? ParseSize(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            long value = 0;
            foreach (var b in field[1..])
            {
                if (value > (long.MaxValue >> 8)) return null;
                value = (value << 8) | b;
            }
            return value;
        }
        long octal = 0;
        foreach (var b in field)
        {
            if (b is 0 or (byte)' ') { if (octal > 0) break; continue; }
            if (b is < (byte)'0' or > (byte)'7' || octal > (long.MaxValue >> 3)) return null;
            octal = octal * 8 + (b - '0');
        }
        return octal;
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
                                       or InvalidOperationException or UnauthorizedAccessException or OverflowException)
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
            // Found by fuzzing: a name given twice, or a file where a later entry needs a folder, made FileStream and
            // CreateDirectory throw a raw IOException.
            if (File.Exists(target) || Directory.Exists(target))
                throw Invalid(archive, $"it holds '{name}' twice");
            for (var parent = Path.GetDirectoryName(target)!; parent.Length >= root.Length; parent = Path.GetDirectoryName(parent)!)
                if (File.Exists(parent))
                    throw Invalid(archive, $"'{name}' lies in a folder that the archive also holds as a file");
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
        // Found by fuzzing: a longer name made the file system throw PathTooLongException. 255 bytes is a file name's
        // limit on Linux, Windows and macOS; a dataset's paths are far shorter than the total allowed.
        if (parts.Any(part => System.Text.Encoding.UTF8.GetByteCount(part) > 255) || name.Length > MaxNameLength)
            throw Invalid(archive, $"an entry's name is longer than a file system allows ({Math.Min(name.Length, 100)}+ characters)");
        return string.Join('/', parts);
    }

    private static KdException Invalid(string archive, string reason, Exception? inner = null) =>
        new(KdErrorIds.DatasetArchiveInvalid, KdErrorKind.InvalidData,
            $"'{archive}' is not a safe dataset archive: {reason}; download the official archive again, or pass the " +
            "right file with -Source", archive, inner);
}
