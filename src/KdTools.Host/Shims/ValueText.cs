using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace KdTools.Host.Shims;

/// <summary>How the shims turn property values into text.</summary>
internal static class ValueText
{
    /// <summary>Display text for a table or list cell; collections read "{a, b}" as in pwsh.</summary>
    public static string Display(object? value) => Unwrap(value) switch
    {
        null => "",
        string text => text,
        IEnumerable items and not IDictionary => "{" + string.Join(", ", items.Cast<object?>().Select(Display)) + "}",
        var other => PSObject.AsPSObject(other).ToString(),
    };

    /// <summary>Culture-invariant text for files, so numbers read the same on every machine; null stays null.</summary>
    public static string? Invariant(object? value) => Unwrap(value) switch
    {
        null => null,
        PSObject custom => custom.ToString(),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };

    public static bool IsScalar(object? value) => Unwrap(value) switch
    {
        null or string or decimal or DateTime or TimeSpan or Guid or Enum => true,
        var other => other.GetType().IsPrimitive,
    };

    public static bool IsNumeric(object? value) =>
        Unwrap(value) is byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal;

    // PSCustomObject values stay wrapped: their PSObject is what carries the properties.
    private static object? Unwrap(object? value) =>
        value is PSObject wrapped && wrapped.BaseObject is not PSCustomObject ? wrapped.BaseObject : value;
}
