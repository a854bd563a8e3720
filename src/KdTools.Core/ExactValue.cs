using System.Globalization;

namespace KdTools.Core;

/// <summary>
/// Converts loosely typed values (PowerShell hashtables, CSV cells) to an option's or setting's type only when the
/// value is exactly representable: text is read culture-invariantly, without thousands separators ('2,5' is not a
/// number, whatever the machine's locale), a whole number must be whole (0.5 is not an epoch count, and is never
/// rounded), a boolean is true/false or 1/0, an enum value is one of its names.
/// </summary>
internal static class ExactValue
{
    /// <summary><paramref name="raw"/> as a <paramref name="target"/> (a number, boolean, enum, string, or an array of them).</summary>
    /// <exception cref="FormatException">The value is not exactly a <paramref name="target"/>; the message says why.</exception>
    public static object Convert(object raw, Type target)
    {
        if (target.IsInstanceOfType(raw)) return raw;
        if (target.IsArray)
        {
            var element = target.GetElementType()!;
            var items = raw switch
            {
                string s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Cast<object>().ToList(),
                System.Collections.IEnumerable e => e.Cast<object>().ToList(),
                _ => [raw],
            };
            var array = Array.CreateInstance(element, items.Count);
            for (int i = 0; i < items.Count; i++) array.SetValue(Convert(items[i], element), i);
            return array;
        }
        if (target == typeof(string)) return raw is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : raw.ToString() ?? "";
        if (target == typeof(bool)) return Boolean(raw);
        if (target.IsEnum) return EnumValue(raw, target);
        if (target == typeof(double) || target == typeof(float)) return FloatingPoint(raw, target);
        if (target == typeof(int) || target == typeof(long)) return WholeNumber(raw, target);
        throw new FormatException($"values of type {target.Name} cannot be given as text");
    }

    /// <summary>What the message calls a type: "number", "whole number", "boolean (true or false)", "list of numbers", an enum's names.</summary>
    public static string Describe(Type type) =>
        type == typeof(double) || type == typeof(float) ? "number"
        : type == typeof(int) || type == typeof(long) ? "whole number"
        : type == typeof(bool) ? "boolean (true or false)"
        : type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}"
        : type.IsArray ? $"list of {Describe(type.GetElementType()!)}s"
        : type == typeof(string) ? "text" : type.Name;

    private static object FloatingPoint(object raw, Type target)
    {
        double value = raw switch
        {
            string s => double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new FormatException(s.Contains(',')
                    ? $"'{s}' is not a number: write the decimal separator as a point (2.5), with no thousands separators"
                    : $"'{s}' is not a number"),
            bool => throw new FormatException("a boolean is not a number"),
            IConvertible c when IsNumeric(c) => c.ToDouble(CultureInfo.InvariantCulture),
            _ => throw new FormatException($"a {raw.GetType().Name} is not a number"),
        };
        return target == typeof(float) ? (object)(float)value : value;
    }

    private static object WholeNumber(object raw, Type target)
    {
        decimal value = raw switch
        {
            string s => decimal.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && Unrounded(s, parsed)
                ? parsed
                : throw new FormatException($"'{s}' is not a whole number"),
            double or float => WholeFloatingPoint(System.Convert.ToDouble(raw, CultureInfo.InvariantCulture), raw),
            bool => throw new FormatException("a boolean is not a whole number"),
            IConvertible c when IsNumeric(c) && c is not (double or float) => c.ToDecimal(CultureInfo.InvariantCulture),
            _ => throw new FormatException($"{Show(raw)} is not a whole number"),
        };
        if (value != decimal.Truncate(value))
            throw new FormatException($"{Show(raw)} is not a whole number (it is never rounded)");
        bool fits = target == typeof(int) ? value is >= int.MinValue and <= int.MaxValue : value is >= long.MinValue and <= long.MaxValue;
        if (!fits) throw new FormatException($"{Show(raw)} is out of range for a {target.Name}");
        return target == typeof(int) ? (object)(int)value : (long)value;
    }

    /// <summary>
    /// Whether <paramref name="parsed"/> is the number <paramref name="text"/> writes, not a rounding of it: decimal keeps
    /// 28 digits, so "1e-40" reads as 0 (which would make a tiny fraction a whole number of epochs); the text read as a
    /// double must give the same value.
    /// </summary>
    private static bool Unrounded(string text, decimal parsed) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var asDouble) && asDouble == (double)parsed;

    /// <summary>A floating-point value that is whole, as a decimal (exact: such doubles below 1e28 are integers).</summary>
    private static decimal WholeFloatingPoint(double value, object raw) =>
        double.IsFinite(value) && value == Math.Truncate(value) && Math.Abs(value) < 1e28
            ? (decimal)value
            : throw new FormatException($"{Show(raw)} is not a whole number (it is never rounded)");

    private static bool Boolean(object raw) => raw switch
    {
        string s when bool.TryParse(s.Trim(), out var b) => b,
        string s when s.Trim() is "1" => true,
        string s when s.Trim() is "0" => false,
        IConvertible c when IsNumeric(c) && c.ToDouble(CultureInfo.InvariantCulture) is 0 or 1 => c.ToDouble(CultureInfo.InvariantCulture) == 1,
        _ => throw new FormatException($"{Show(raw)} is not a boolean: write true or false (or 1 or 0)"),
    };

    private static object EnumValue(object raw, Type target)
    {
        var text = raw.ToString()?.Trim() ?? "";
        var name = Enum.GetNames(target).FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
        return name is not null ? Enum.Parse(target, name) : throw new FormatException($"{Show(raw)} is not one of {string.Join(", ", Enum.GetNames(target))}");
    }

    private static bool IsNumeric(IConvertible value) => value.GetTypeCode() is >= TypeCode.SByte and <= TypeCode.Decimal;

    private static string Show(object raw) => raw is string s ? $"'{s}'" : System.Convert.ToString(raw, CultureInfo.InvariantCulture) ?? "";
}
