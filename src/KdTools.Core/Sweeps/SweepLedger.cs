using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace KdTools.Core.Sweeps;

/// <summary>
/// A sweep's ledger: a CSV file that every run of a plan appends to, one whole line per event (started, completed,
/// failed, stopped). Appends take an exclusive lock on <c>&lt;ledger&gt;.lock</c> (flock on Linux and macOS, a
/// share-none open on Windows) and write the line in one append-mode write that is flushed to disk before the lock is
/// released, so any number of writers — runspaces of one process, processes, hosts on one shared folder whose file
/// system honours locks (local disks; NFS v4) — never lose or interleave lines. A line cut short by a crash or power loss
/// lacks the end mark of its last column (<see cref="SweepEntry.EndColumn"/>): it is ignored when read, and closed
/// with a newline before the next append.
/// </summary>
public sealed class SweepLedger
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(2);
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public SweepLedger(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        DefaultCheckpointFolder = System.IO.Path.Combine(folder, System.IO.Path.GetFileNameWithoutExtension(Path) + "-checkpoints");
    }

    public string Path { get; }

    /// <summary>Where a sweep without its own checkpoint folder keeps its runs' checkpoints: beside the ledger.</summary>
    public string DefaultCheckpointFolder { get; }

    /// <summary>Every well-formed entry, in file order (empty when the file does not exist yet).</summary>
    public IReadOnlyList<SweepEntry> Read()
    {
        if (!File.Exists(Path)) return [];
        using var held = Lock();
        return Parse(ReadText());
    }

    /// <summary>The last entry of each key, in the order keys first appear: where every row of the sweep stands.</summary>
    public IReadOnlyList<SweepEntry> Latest()
    {
        var latest = new Dictionary<string, SweepEntry>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var entry in Read())
        {
            if (!latest.ContainsKey(entry.Key)) order.Add(entry.Key);
            latest[entry.Key] = entry;
        }
        return order.Select(k => latest[k]).ToList();
    }

    /// <summary>The last entry for <paramref name="key"/>, or null for a row the ledger has not seen.</summary>
    public SweepEntry? Last(string key) => Read().LastOrDefault(e => e.Key == key);

    /// <summary>Appends one entry as one whole line (the header first, into an empty file).</summary>
    public void Append(SweepEntry entry)
    {
        var line = new StringBuilder();
        foreach (var cell in entry.Cells()) line.Append(line.Length == 0 ? "" : ",").Append(Quote(cell));
        line.Append('\n');
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            using var held = Lock();
            using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            var text = new StringBuilder();
            if (file.Length == 0) text.Append(string.Join(",", SweepEntry.Columns)).Append('\n');
            else if (!EndsWithNewline()) text.Append('\n');
            text.Append(line);
            var bytes = Utf8.GetBytes(text.ToString());
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KdException(KdErrorIds.SweepLedgerWriteFailed, ex is UnauthorizedAccessException ? KdErrorKind.PermissionDenied : KdErrorKind.WriteError,
                $"cannot append to the sweep ledger '{Path}': {ex.Message}; give -ResultPath a file in a folder you can write", Path, ex);
        }
    }

    private bool EndsWithNewline()
    {
        using var read = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (read.Length == 0) return true;
        read.Seek(-1, SeekOrigin.End);
        return read.ReadByte() == '\n';
    }

    private string ReadText()
    {
        try
        {
            using var read = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(read, Utf8);
            var text = reader.ReadToEnd();
            // A line cut short by a crash is not an entry.
            int end = text.LastIndexOf('\n');
            return end < 0 ? "" : text[..(end + 1)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KdException(KdErrorIds.SweepLedgerUnreadable, KdErrorKind.ResourceUnavailable,
                $"cannot read the sweep ledger '{Path}': {ex.Message}", Path, ex);
        }
    }

    private IReadOnlyList<SweepEntry> Parse(string text)
    {
        var entries = new List<SweepEntry>();
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = true, BadDataFound = null, MissingFieldFound = null };
        using var csv = new CsvReader(new StringReader(text), config);
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { } header || !header.Contains("Key") || !header.Contains("Status"))
            {
                if (text.Length == 0) return entries;
                throw new KdException(KdErrorIds.SweepLedgerUnreadable, KdErrorKind.InvalidData,
                    $"'{Path}' is not a sweep ledger (its first line lacks the Key and Status columns); give -ResultPath a new file or a ledger a sweep wrote", Path);
            }
            while (csv.Read())
            {
                var cells = new Dictionary<string, string>(StringComparer.Ordinal);
                if (csv.Parser.Count != header.Length) continue;
                for (int i = 0; i < header.Length; i++) cells[header[i]] = csv.Parser[i] ?? "";
                if (SweepEntry.FromCells(cells) is { } entry) entries.Add(entry);
            }
        }
        catch (CsvHelperException ex)
        {
            throw new KdException(KdErrorIds.SweepLedgerUnreadable, KdErrorKind.InvalidData,
                $"the sweep ledger '{Path}' is damaged ({ex.Message.Split('\n')[0]}); move it aside to start a new ledger", Path, ex);
        }
        return entries;
    }

    /// <summary>The ledger's lock: held while reading or appending, released on dispose.</summary>
    private FileStream Lock()
    {
        var lockPath = Path + ".lock";
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockTimeout)
            {
                Thread.Sleep(Random.Shared.Next(2, 20));
            }
            catch (IOException ex)
            {
                throw new KdException(KdErrorIds.SweepLedgerWriteFailed, KdErrorKind.ResourceUnavailable,
                    $"the sweep ledger's lock '{lockPath}' stayed taken for {LockTimeout.TotalMinutes:0} minutes ({ex.Message}); " +
                    "a writer is stuck, or the folder's file system does not support locks: use a local folder or NFS v4", lockPath, ex);
            }
        }
    }

    private static string Quote(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) < 0 ? cell : "\"" + cell.Replace("\"", "\"\"") + "\"";
}
