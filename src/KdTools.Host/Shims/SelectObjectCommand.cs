using System.Management.Automation;

namespace KdTools.Host.Shims;

/// <summary>Select-Object with -Property (names, wildcards, calculated), -ExpandProperty, -First, -Last and -Skip.</summary>
[Cmdlet(VerbsCommon.Select, "Object")]
public sealed class SelectObjectCommand : PSCmdlet
{
    private readonly List<PSObject> _buffered = [];
    private PropertySelection? _selection;
    private int _seen;
    private int _emitted;

    [Parameter(ValueFromPipeline = true)] public PSObject? InputObject { get; set; }
    [Parameter(Position = 0)] public object[]? Property { get; set; }
    [Parameter] public string? ExpandProperty { get; set; }
    [Parameter, ValidateRange(0, int.MaxValue)] public int First { get; set; }
    [Parameter, ValidateRange(0, int.MaxValue)] public int Last { get; set; }

    /// <summary>Counts from the start, or from the end together with -Last, as in pwsh.</summary>
    [Parameter, ValidateRange(0, int.MaxValue)] public int Skip { get; set; }

    private bool Has(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);

    protected override void BeginProcessing()
    {
        if (Property is not null && ExpandProperty is not null)
            ThrowTerminatingError(new ErrorRecord(new PSNotSupportedException(
                "The kdhost Select-Object shim does not combine -Property with -ExpandProperty; use one of them."),
                "SelectObjectShimUnsupported", ErrorCategory.NotImplemented, null));
        if (Property is not null) _selection = new PropertySelection(Property);
    }

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        if (Has(nameof(Last))) { _buffered.Add(InputObject); return; }
        if (_seen++ < Skip) return;
        if (Has(nameof(First)) && _emitted >= First) return;
        _emitted++;
        Emit(InputObject);
    }

    protected override void EndProcessing()
    {
        if (!Has(nameof(Last))) return;
        var end = Math.Max(0, _buffered.Count - Skip);
        var start = Math.Max(0, end - Last);
        for (var i = start; i < end; i++) Emit(_buffered[i]);
    }

    private void Emit(PSObject input)
    {
        if (ExpandProperty is not null)
        {
            var property = input.Properties[ExpandProperty];
            if (property is null)
            {
                WriteError(new ErrorRecord(new PSArgumentException($"Property \"{ExpandProperty}\" cannot be found."),
                    "ExpandPropertyNotFound", ErrorCategory.InvalidArgument, input));
                return;
            }
            WriteObject(property.Value, enumerateCollection: true);
            return;
        }
        if (_selection is null) { WriteObject(input); return; }

        var selected = new PSObject();
        foreach (var (name, value) in _selection.Select(input))
            if (selected.Properties[name] is null) selected.Properties.Add(new PSNoteProperty(name, value));
        selected.TypeNames.Insert(0, "Selected." + input.TypeNames.FirstOrDefault());
        WriteObject(selected);
    }
}
