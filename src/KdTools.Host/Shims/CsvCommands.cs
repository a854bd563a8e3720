using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace KdTools.Host.Shims;

/// <summary>
/// Export-Csv as pwsh 7 writes it: a header from the first object's properties, every field quoted, $null as an empty
/// unquoted field, UTF-8 without BOM. Numbers are written culture-invariant (pwsh uses the current culture).
/// With -Append to a non-empty file the file's header decides the columns.
/// </summary>
[Cmdlet(VerbsData.Export, "Csv")]
public sealed class ExportCsvCommand : PSCmdlet, IDisposable
{
    private CsvWriter? _csv;
    private IReadOnlyList<string>? _columns;

    [Parameter(Mandatory = true, ValueFromPipeline = true)] public PSObject? InputObject { get; set; }
    [Parameter(Mandatory = true, Position = 0), Alias("PSPath")] public string Path { get; set; } = "";
    [Parameter] public SwitchParameter Append { get; set; }

    /// <summary>With -Append, writes objects that lack some of the file's columns (those fields stay empty).</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    [Parameter] public char Delimiter { get; set; } = ',';

    /// <summary>Accepted for compatibility; pwsh 7 writes no type line either.</summary>
    [Parameter] public SwitchParameter NoTypeInformation { get; set; }

    /// <summary>Accepted for compatibility; the file is always UTF-8 without BOM.</summary>
    [Parameter] public object? Encoding { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        if (_columns is null) Open(InputObject);
        var missing = _columns!.FirstOrDefault(c => !Has(InputObject, c));
        if (missing is not null && Append && !Force)
            ThrowTerminatingError(new ErrorRecord(new PSInvalidOperationException(
                $"Cannot append CSV content to '{Path}': the object has no property for the column '{missing}'. Add -Force to write it with that field empty."),
                "CannotAppendCsvWithMismatchedPropertyNames", ErrorCategory.InvalidData, InputObject));
        foreach (var column in _columns!)
        {
            var value = ValueText.Invariant(ValueOf(InputObject, column));
            _csv!.WriteField(value, shouldQuote: value is not null);
        }
        _csv!.NextRecord();
    }

    protected override void EndProcessing() => Dispose();

    public void Dispose()
    {
        _csv?.Dispose();
        _csv = null;
    }

    private void Open(PSObject first)
    {
        var fullPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var existingHeader = Append && File.Exists(fullPath) ? ReadHeader(fullPath) : null;
        _columns = existingHeader ?? PropertyNames(first);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { Delimiter = Delimiter.ToString(), NewLine = Environment.NewLine };
        _csv = new CsvWriter(new StreamWriter(fullPath, Append, new UTF8Encoding(false)), config);
        if (existingHeader is not null) return;
        foreach (var column in _columns) _csv.WriteField(column, shouldQuote: true);
        _csv.NextRecord();
    }

    private string[]? ReadHeader(string fullPath)
    {
        using var parser = new CsvParser(new StreamReader(fullPath), new CsvConfiguration(CultureInfo.InvariantCulture) { Delimiter = Delimiter.ToString() });
        return parser.Read() ? parser.Record : null;
    }

    private static IReadOnlyList<string> PropertyNames(PSObject input) => input.BaseObject is IDictionary dictionary
        ? dictionary.Keys.Cast<object>().Select(k => k.ToString() ?? "").ToList()
        : input.Properties.Select(p => p.Name).ToList();

    private static bool Has(PSObject input, string column) =>
        input.BaseObject is IDictionary dictionary ? dictionary.Contains(column) : input.Properties[column] is not null;

    private static object? ValueOf(PSObject input, string column) =>
        input.BaseObject is IDictionary dictionary ? dictionary[column] : input.Properties[column]?.Value;
}

/// <summary>Import-Csv: one PSCustomObject per row with string properties named by the header (or -Header); leading '#' lines are skipped.</summary>
[Cmdlet(VerbsData.Import, "Csv")]
public sealed class ImportCsvCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true), Alias("PSPath")] public string[] Path { get; set; } = [];
    [Parameter] public char Delimiter { get; set; } = ',';
    [Parameter] public string[]? Header { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var pattern in Path)
            foreach (var file in SessionState.Path.GetResolvedProviderPathFromPSPath(pattern, out _))
                Import(file);
    }

    private void Import(string file)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { Delimiter = Delimiter.ToString() };
        using var parser = new CsvParser(new StreamReader(file), config);
        var header = Header;
        while (parser.Read())
        {
            var record = parser.Record!;
            if (header is null)
            {
                if (!record[0].StartsWith('#')) header = record;
                continue;
            }
            var row = new PSObject();
            for (var i = 0; i < header.Length; i++)
                row.Properties.Add(new PSNoteProperty(header[i], i < record.Length ? record[i] : null));
            WriteObject(row);
        }
    }
}
