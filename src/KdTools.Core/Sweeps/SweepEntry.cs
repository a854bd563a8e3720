namespace KdTools.Core.Sweeps;

/// <summary>Where a row of a sweep stands, as its last ledger entry says.</summary>
public enum SweepStatus
{
    /// <summary>The row's run began (its checkpoint is named); with no later entry it was killed or is still running.</summary>
    Started,

    /// <summary>The run finished: the entry carries its results. A rerun skips the row.</summary>
    Completed,

    /// <summary>The run failed (divergence, a bad option, I/O): the entry carries the error. A rerun starts it over.</summary>
    Failed,

    /// <summary>The run was cancelled (Ctrl+C): a rerun resumes it from its checkpoint.</summary>
    Stopped,
}

/// <summary>
/// One line of a sweep ledger: the row's key, what happened, where its checkpoint is, and, for a completed run, its
/// results. Numbers are written round-trip ("R"), so two ledgers of the same plan compare bit for bit.
/// </summary>
public sealed record SweepEntry
{
    /// <summary>The ledger's columns, in file order: the row's bookkeeping, then the run's results.</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        "Key", "Status", "Host", "Process", "Time", "Checkpoint", "ErrorId", "Error",
        .. SweepResults.Columns, EndColumn,
    ];

    /// <summary>
    /// The last column, always <see cref="EndMark"/>: a line cut short by a crash (and closed by the next append) lacks
    /// it, and is not an entry.
    /// </summary>
    public const string EndColumn = "End";

    public const string EndMark = ".";

    /// <summary>The plan row's identity (<see cref="SweepKey"/>): the same row of the same plan has the same key.</summary>
    public required string Key { get; init; }

    public required SweepStatus Status { get; init; }

    /// <summary>The machine that wrote the entry.</summary>
    public string Host { get; init; } = Environment.MachineName;

    /// <summary>The id of the process that wrote the entry (on <see cref="Host"/>): the one to look for when a row stays Started.</summary>
    public int Process { get; init; } = Environment.ProcessId;

    /// <summary>When the entry was written (UTC, ISO 8601).</summary>
    public string Time { get; init; } = DateTime.UtcNow.ToString("o", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The run's resumable checkpoint (<c>*-last.safetensors</c>).</summary>
    public string Checkpoint { get; init; } = "";

    /// <summary>A failed run's <c>KdTools.*</c> error id.</summary>
    public string ErrorId { get; init; } = "";

    /// <summary>A failed run's message.</summary>
    public string Error { get; init; } = "";

    /// <summary>A completed run's results by <see cref="SweepResults.Columns"/> name (empty otherwise).</summary>
    public IReadOnlyDictionary<string, string> Results { get; init; } = new Dictionary<string, string>();

    /// <summary>The entry's cells in <see cref="Columns"/> order.</summary>
    public IEnumerable<string> Cells() =>
        new[] { Key, Status.ToString(), Host, Process.ToString(System.Globalization.CultureInfo.InvariantCulture), Time, Checkpoint, ErrorId, Error }
            .Concat(SweepResults.Columns.Select(c => Results.GetValueOrDefault(c, "")))
            .Append(EndMark);

    /// <summary>The entry of a ledger line, or null when the line is not one (a damaged or foreign line).</summary>
    internal static SweepEntry? FromCells(IReadOnlyDictionary<string, string> cells)
    {
        if (cells.GetValueOrDefault(EndColumn) != EndMark || !cells.TryGetValue("Key", out var key) || key.Length == 0
            || !Enum.TryParse<SweepStatus>(cells.GetValueOrDefault("Status"), ignoreCase: false, out var status))
            return null;
        return new SweepEntry
        {
            Key = key,
            Status = status,
            Host = cells.GetValueOrDefault("Host", ""),
            Process = int.TryParse(cells.GetValueOrDefault("Process"), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var process) ? process : 0,
            Time = cells.GetValueOrDefault("Time", ""),
            Checkpoint = cells.GetValueOrDefault("Checkpoint", ""),
            ErrorId = cells.GetValueOrDefault("ErrorId", ""),
            Error = cells.GetValueOrDefault("Error", ""),
            Results = SweepResults.Columns.Where(cells.ContainsKey).ToDictionary(c => c, c => cells[c]),
        };
    }
}
