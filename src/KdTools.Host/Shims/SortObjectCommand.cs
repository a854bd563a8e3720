using System.Globalization;
using System.Management.Automation;

namespace KdTools.Host.Shims;

/// <summary>Stable Sort-Object by the objects themselves or by -Property names / script blocks, with -Descending.</summary>
[Cmdlet("Sort", "Object")]
public sealed class SortObjectCommand : PSCmdlet
{
    private readonly List<PSObject> _inputs = [];

    [Parameter(ValueFromPipeline = true)] public PSObject? InputObject { get; set; }
    [Parameter(Position = 0)] public object[]? Property { get; set; }
    [Parameter] public SwitchParameter Descending { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _inputs.Add(InputObject);
    }

    protected override void EndProcessing()
    {
        var keyed = _inputs.Select(input => (Input: input, Keys: KeysOf(input))).ToList();
        var comparer = Comparer<object?[]>.Create(CompareKeys);
        var sorted = Descending ? keyed.OrderByDescending(k => k.Keys, comparer) : keyed.OrderBy(k => k.Keys, comparer);
        foreach (var (input, _) in sorted) WriteObject(input);
    }

    private object?[] KeysOf(PSObject input) => Property is null
        ? [input.BaseObject]
        : Property.Select(spec => PSObject.AsPSObject(spec).BaseObject switch
        {
            ScriptBlock script => script.InvokeWithContext(null, [new PSVariable("_", input)]).FirstOrDefault()?.BaseObject,
            var name => input.Properties[name.ToString() ?? ""]?.Value,
        }).ToArray();

    private static int CompareKeys(object?[]? left, object?[]? right)
    {
        for (var i = 0; i < left!.Length; i++)
        {
            var order = CompareValues(left[i], right![i]);
            if (order != 0) return order;
        }
        return 0;
    }

    private static int CompareValues(object? left, object? right)
    {
        if (left is null || right is null) return (left is null ? 0 : 1) - (right is null ? 0 : 1);
        try
        {
            return LanguagePrimitives.Compare(left, right, ignoreCase: true, CultureInfo.CurrentCulture);
        }
        catch (Exception e) when (e is ArgumentException or PSInvalidCastException)
        {
            // Like pwsh's Sort-Object, values that cannot be compared as their types are compared as text.
            return string.Compare(left.ToString(), right.ToString(), CultureInfo.CurrentCulture, CompareOptions.IgnoreCase);
        }
    }
}
