using System.Management.Automation;

namespace KdTools.Host.Shims;

/// <summary>
/// Measure-Object: Count always; -Sum, -Average, -Maximum, -Minimum of numeric values (of the objects or of each -Property).
/// Outputs objects with pwsh's GenericMeasureInfo properties: Count, Average, Sum, Maximum, Minimum, Property.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "Object")]
public sealed class MeasureObjectCommand : PSCmdlet
{
    private readonly Dictionary<string, Statistics> _statistics = [];

    [Parameter(ValueFromPipeline = true)] public PSObject? InputObject { get; set; }
    [Parameter(Position = 0)] public string[]? Property { get; set; }
    [Parameter] public SwitchParameter Sum { get; set; }
    [Parameter] public SwitchParameter Average { get; set; }
    [Parameter] public SwitchParameter Maximum { get; set; }
    [Parameter] public SwitchParameter Minimum { get; set; }

    private bool NeedsNumbers => Sum || Average || Maximum || Minimum;

    protected override void BeginProcessing()
    {
        foreach (var name in Property ?? [""]) _statistics[name] = new Statistics();
    }

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        if (Property is null) { Add("", InputObject.BaseObject); return; }
        foreach (var name in Property)
            if (InputObject.Properties[name]?.Value is { } value) Add(name, value);
    }

    protected override void EndProcessing()
    {
        foreach (var (name, statistics) in _statistics)
        {
            if (Property is not null && statistics.Count == 0)
            {
                WriteError(new ErrorRecord(new PSArgumentException($"The property \"{name}\" cannot be found in the input for any objects."),
                    "GenericMeasurePropertyNotFound", ErrorCategory.InvalidArgument, name));
                continue;
            }
            var result = new PSObject();
            result.Properties.Add(new PSNoteProperty("Count", statistics.Count));
            result.Properties.Add(new PSNoteProperty("Average", Average && statistics.Count > 0 ? statistics.Total / statistics.Count : null));
            result.Properties.Add(new PSNoteProperty("Sum", Sum ? statistics.Total : null));
            result.Properties.Add(new PSNoteProperty("Maximum", Maximum ? statistics.Max : null));
            result.Properties.Add(new PSNoteProperty("Minimum", Minimum ? statistics.Min : null));
            result.Properties.Add(new PSNoteProperty("Property", Property is null ? null : name));
            WriteObject(result);
        }
    }

    private void Add(string property, object value)
    {
        var statistics = _statistics[property];
        statistics.Count++;
        if (!NeedsNumbers) return;
        if (!LanguagePrimitives.TryConvertTo<double>(value, out var number))
            ThrowTerminatingError(new ErrorRecord(new PSInvalidCastException($"Input object \"{value}\" is not numeric."),
                "NonNumericInputObject", ErrorCategory.InvalidType, value));
        statistics.Total += number;
        statistics.Max = statistics.Max is { } max ? Math.Max(max, number) : number;
        statistics.Min = statistics.Min is { } min ? Math.Min(min, number) : number;
    }

    private sealed class Statistics
    {
        public int Count;
        public double Total;
        public double? Max;
        public double? Min;
    }
}
