using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace KdTools.Host.Pester;

/// <summary>Values as Pester's failure messages show them: 'text', $null, $true, @(1, 2), [int], @{a=1}, PSObject{a=1}.</summary>
internal static class NicelyFormatted
{
    public static string Of(object? value) => Unwrap(value) switch
    {
        null => "$null",
        PSObject custom => "PSObject{" + string.Join("; ", custom.Properties.Select(p => $"{p.Name}={Of(p.Value)}")) + "}",
        bool flag => flag ? "$true" : "$false",
        string text => $"'{text}'",
        Type type => $"[{type.FullName}]",
        ScriptBlock script => "{" + script + "}",
        DateTime date => date.ToString("o", CultureInfo.InvariantCulture),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        IDictionary table => "@{" + string.Join("; ", table.Keys.Cast<object>().Select(k => $"{k}={Of(table[k])}")) + "}",
        IEnumerable items => "@(" + string.Join(", ", items.Cast<object?>().Select(Of)) + ")",
        var other => other.ToString() ?? "",
    };

    /// <summary>Pester's ", because X," insert (empty without -Because).</summary>
    public static string Because(string? because)
    {
        var reason = because?.Trim();
        if (string.IsNullOrEmpty(reason)) return "";
        if (reason.StartsWith("because ", StringComparison.OrdinalIgnoreCase)) reason = reason["because ".Length..];
        return $" because {reason},";
    }

    private static object? Unwrap(object? value) =>
        value is PSObject wrapped && wrapped.BaseObject is not PSCustomObject ? wrapped.BaseObject : value;
}
