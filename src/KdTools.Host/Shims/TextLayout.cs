using System.Management.Automation;

namespace KdTools.Host.Shims;

/// <summary>Plain table and list layouts for the Format-Table and Format-List shims.</summary>
internal static class TextLayout
{
    private const int MaxColumnWidth = 60;

    public static IEnumerable<string> Table(IReadOnlyList<string> headers, IReadOnlyList<object?[]> rows)
    {
        var cells = rows.Select(row => row.Select(v => Truncate(ValueText.Display(v))).ToArray()).ToList();
        var widths = headers.Select((h, c) => cells.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        // Numbers line up on the right, as in pwsh.
        var rightAligned = headers.Select((_, c) => rows.Any(r => r[c] is not null) &&
                                                    rows.All(r => r[c] is null || ValueText.IsNumeric(r[c]))).ToArray();

        string Line(IEnumerable<string> texts) =>
            string.Join(" ", texts.Select((t, c) => rightAligned[c] ? t.PadLeft(widths[c]) : t.PadRight(widths[c]))).TrimEnd();

        yield return "";
        yield return Line(headers);
        yield return Line(headers.Select(h => new string('-', h.Length)));
        foreach (var row in cells) yield return Line(row);
        yield return "";
    }

    public static IEnumerable<string> List(IReadOnlyList<IReadOnlyList<(string Name, object? Value)>> records)
    {
        yield return "";
        foreach (var record in records)
        {
            var width = record.Count == 0 ? 0 : record.Max(p => p.Name.Length);
            foreach (var (name, value) in record) yield return $"{name.PadRight(width)} : {ValueText.Display(value)}".TrimEnd();
            yield return "";
        }
    }

    private static string Truncate(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= MaxColumnWidth ? line : line[..(MaxColumnWidth - 1)] + "…";
    }
}

/// <summary>Shared input handling of Format-Table and Format-List: objects are laid out, plain values printed as lines.</summary>
public abstract class FormatShimCommand : PSCmdlet
{
    private readonly List<PSObject> _inputs = [];

    [Parameter(ValueFromPipeline = true)] public PSObject? InputObject { get; set; }
    [Parameter(Position = 0)] public object[]? Property { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _inputs.Add(InputObject);
    }

    protected override void EndProcessing()
    {
        var objects = new List<PSObject>();
        foreach (var input in _inputs)
        {
            if (!ValueText.IsScalar(input)) { objects.Add(input); continue; }
            Flush(objects);
            Host.UI.WriteLine(ValueText.Display(input));
        }
        Flush(objects);
    }

    private protected abstract IEnumerable<string> Layout(IReadOnlyList<PSObject> objects, PropertySelection selection);

    private void Flush(List<PSObject> objects)
    {
        if (objects.Count == 0) return;
        var selection = Property is null ? PropertySelection.DefaultFor(objects[0]) : new PropertySelection(Property);
        foreach (var line in Layout(objects, selection)) Host.UI.WriteLine(line);
        objects.Clear();
    }
}

/// <summary>Prints a table (columns from -Property or the first object) to the host and outputs nothing, unlike pwsh's format objects.</summary>
[Cmdlet(VerbsCommon.Format, "Table")]
public sealed class FormatTableCommand : FormatShimCommand
{
    /// <summary>Accepted for compatibility: columns are always sized to their content.</summary>
    [Parameter] public SwitchParameter AutoSize { get; set; }

    private protected override IEnumerable<string> Layout(IReadOnlyList<PSObject> objects, PropertySelection selection)
    {
        var selected = objects.Select(o => selection.Select(o).ToList()).ToList();
        var headers = selected[0].Select(p => p.Name).ToList();
        var rows = selected.Select(s => headers.Select(h => s.FirstOrDefault(p => p.Name == h).Value).ToArray()).ToList();
        return TextLayout.Table(headers, rows);
    }
}

/// <summary>Prints "Name : Value" blocks to the host and outputs nothing.</summary>
[Cmdlet(VerbsCommon.Format, "List")]
public sealed class FormatListCommand : FormatShimCommand
{
    private protected override IEnumerable<string> Layout(IReadOnlyList<PSObject> objects, PropertySelection selection) =>
        TextLayout.List(objects.Select(o => (IReadOnlyList<(string, object?)>)selection.Select(o).ToList()).ToList());
}
