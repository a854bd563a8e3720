using System.Collections;
using System.Management.Automation;

namespace KdTools.Host.Shims;

/// <summary>
/// The -Property argument of Select-Object and Format-*: property names (wildcards allowed) and calculated properties
/// written as @{ Name|N|Label|L = ...; Expression|E = 'PropertyName' or { script using $_ } }.
/// </summary>
internal sealed class PropertySelection
{
    private readonly IReadOnlyList<object> _specs;

    public PropertySelection(IEnumerable<object> specs)
    {
        _specs = specs.Select(spec => PSObject.AsPSObject(spec).BaseObject switch
        {
            string name => (object)name,
            IDictionary calculated => Calculated.From(calculated),
            var other => throw new PSArgumentException(
                $"The property '{other}' is neither a name nor a @{{Name=...; Expression=...}} hashtable."),
        }).ToList();
    }

    public IEnumerable<(string Name, object? Value)> Select(PSObject input)
    {
        foreach (var spec in _specs)
        {
            if (spec is Calculated calculated) { yield return (calculated.Name, calculated.Evaluate(input)); continue; }
            var name = (string)spec;
            if (!WildcardPattern.ContainsWildcardCharacters(name))
            {
                // Like Select-Object, an absent property still yields a column, with no value.
                var property = input.Properties[name];
                yield return (property?.Name ?? name, property?.Value);
                continue;
            }
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            foreach (var property in input.Properties.Where(p => p.IsGettable && pattern.IsMatch(p.Name)))
                yield return (property.Name, property.Value);
        }
    }

    /// <summary>The properties Format-* show when no -Property is given: the type's default display set, else all readable ones.</summary>
    public static PropertySelection DefaultFor(PSObject input)
    {
        var standard = input.Members["PSStandardMembers"]?.Value as PSMemberSet;
        var displaySet = standard?.Members["DefaultDisplayPropertySet"] as PSPropertySet;
        IEnumerable<string> names = displaySet?.ReferencedPropertyNames ?? input.Properties.Where(p => p.IsGettable).Select(p => p.Name);
        return new PropertySelection(names);
    }

    private sealed record Calculated(string Name, object Expression)
    {
        public static Calculated From(IDictionary table)
        {
            var name = Find(table, "Name", "N", "Label", "L")?.ToString();
            var expression = Find(table, "Expression", "E");
            if (expression is null)
                throw new PSArgumentException("A calculated property needs an Expression (or E) key: @{Name='X'; Expression={ $_.Y }}.");
            return new Calculated(name ?? expression.ToString() ?? "", PSObject.AsPSObject(expression).BaseObject);
        }

        public object? Evaluate(PSObject input)
        {
            if (Expression is not ScriptBlock script) return input.Properties[Expression.ToString() ?? ""]?.Value;
            var results = script.InvokeWithContext(null, [new PSVariable("_", input)]);
            return results.Count switch { 0 => null, 1 => results[0], _ => results.ToArray() };
        }

        private static object? Find(IDictionary table, params string[] keys) =>
            table.Keys.Cast<object>()
                .Where(key => keys.Contains(key.ToString(), StringComparer.OrdinalIgnoreCase))
                .Select(key => table[key])
                .FirstOrDefault();
    }
}
