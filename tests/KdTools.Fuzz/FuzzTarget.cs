namespace KdTools.Fuzz;

/// <summary>
/// One reader under fuzzing: the same Core function a cmdlet calls, fed the input's bytes (or a small folder built from
/// them), and the valid files it starts from.
/// </summary>
public sealed class FuzzTarget
{
    public required string Name { get; init; }

    /// <summary>What the target reads and which cmdlet reads it that way.</summary>
    public required string Description { get; init; }

    public required Action<FuzzInput> Run { get; init; }

    /// <summary>Valid inputs written by KdTools' own writers (or the test fixtures'), by file name.</summary>
    public required Func<IEnumerable<(string Name, byte[] Bytes)>> Seeds { get; init; }

    /// <summary>
    /// Managed bytes the reader may allocate per input byte, beyond <see cref="FuzzContract.FixedBudgetBytes"/>. Raw
    /// formats stay near 1-4 (a copy or two of the file); compressed images may legitimately decode to far more than their
    /// size (deflate's limit is 1,032:1), and their budget says so.
    /// </summary>
    public long MemoryFactor { get; init; } = 16;

    /// <summary>Besides KdException, the documented refusal of a function whose contract is another exception
    /// (ExactValue's FormatException, which the cmdlets turn into a KdTools id).</summary>
    public Func<Exception, bool>? Refusal { get; init; }

    /// <summary>The assemblies the campaign instruments besides KdTools.Core (the third-party parsers the reader drives).</summary>
    public IReadOnlyList<string> Instrument { get; init; } = [];

    public override string ToString() => Name;
}
