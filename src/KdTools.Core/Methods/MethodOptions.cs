using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace KdTools.Core.Methods;

/// <summary>
/// Hyper-parameters of a method: public settable properties with the paper's defaults and a [Description].
/// Bound by name, case-insensitively, from <c>-MethodOption @{...}</c> or a CSV row.
/// </summary>
public abstract class MethodOptions
{
    /// <summary>Rejects values outside their meaningful range; message names the option and the allowed range.</summary>
    public virtual void Validate()
    {
    }

    /// <summary>
    /// Called by the binder after the caller's values are set and before <see cref="Validate"/>, with the names of the
    /// options the caller gave: options whose defaults depend on another option (FT's variant carries its reference's
    /// weight and pre-stage) fill in those the caller left out, or fail when no reference value exists.
    /// </summary>
    protected internal virtual void ApplyDependentDefaults(IReadOnlySet<string> given)
    {
    }

    protected static void Require(bool condition, string option, string rule, object value)
    {
        if (!condition)
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"option {option} = {Format(value)} is invalid: {rule}", option);
    }

    /// <summary>Compact, culture-invariant "Name=value;..." text of every option, for one CSV column.</summary>
    public string ToCompactString() =>
        string.Join(";", MethodOptionInfo.For(GetType()).Select(o => $"{o.Name}={Format(o.Property.GetValue(this))}"));

    internal static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        double[] a => string.Join(",", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture))),
        int[] a => string.Join(",", a.Select(x => x.ToString(CultureInfo.InvariantCulture))),
        string[] a => string.Join(",", a),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>One option as listed by <c>Get-KdMethod</c>: name, type, default, description.</summary>
public sealed record MethodOptionInfo(string Name, Type Type, object? Default, string Description, PropertyInfo Property)
{
    public string DefaultText => MethodOptions.Format(Default);

    public static IReadOnlyList<MethodOptionInfo> For(Type optionsType)
    {
        var defaults = Activator.CreateInstance(optionsType);
        return optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite)
            // The method's own options first, then those it shares with a family (Beta, KdWeight, ...).
            .OrderByDescending(p => Depth(p.DeclaringType!))
            .ThenBy(p => p.MetadataToken)
            .Select(p => new MethodOptionInfo(p.Name, p.PropertyType, p.GetValue(defaults),
                p.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "", p))
            .ToList();
    }

    private static int Depth(Type t)
    {
        int depth = 0;
        for (var b = t.BaseType; b is not null; b = b.BaseType) depth++;
        return depth;
    }
}

/// <summary>Builds an options object from loosely typed values (PowerShell hashtables, CSV strings).</summary>
public static class MethodOptionBinder
{
    public static T Bind<T>(string method, IReadOnlyDictionary<string, object?>? values) where T : MethodOptions, new() =>
        (T)Bind(method, typeof(T), values);

    public static MethodOptions Bind(string method, Type optionsType, IReadOnlyDictionary<string, object?>? values)
    {
        var options = (MethodOptions)Activator.CreateInstance(optionsType)!;
        var known = MethodOptionInfo.For(optionsType);
        var given = new HashSet<string>();
        foreach (var (key, raw) in values ?? new Dictionary<string, object?>())
        {
            var info = known.FirstOrDefault(o => string.Equals(o.Name, key, StringComparison.OrdinalIgnoreCase))
                ?? throw new KdException(KdErrorIds.MethodOptionUnknown, KdErrorKind.InvalidArgument,
                    $"unknown option '{key}' for method {method}; valid options: {string.Join(", ", known.Select(o => o.Name))}", key);
            info.Property.SetValue(options, Convert(method, info, raw));
            given.Add(info.Name);
        }
        options.ApplyDependentDefaults(given);
        options.Validate();
        return options;
    }

    private static object? Convert(string method, MethodOptionInfo info, object? raw)
    {
        try
        {
            var target = info.Type;
            if (raw is null) return target.IsValueType ? throw new FormatException("a value is required") : null;
            if (target.IsInstanceOfType(raw)) return raw;
            if (target.IsArray)
            {
                var element = target.GetElementType()!;
                var items = raw switch
                {
                    string s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Cast<object>(),
                    System.Collections.IEnumerable e => e.Cast<object>(),
                    _ => [raw],
                };
                var converted = items.Select(i => ConvertScalar(i, element)).ToArray();
                var array = Array.CreateInstance(element, converted.Length);
                for (int i = 0; i < converted.Length; i++) array.SetValue(converted[i], i);
                return array;
            }
            return ConvertScalar(raw, target);
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"option {info.Name} of method {method} needs a {FriendlyType(info.Type)}, got '{raw}' ({ex.Message.TrimEnd('.')})", info.Name, ex);
        }
    }

    private static object ConvertScalar(object raw, Type target)
    {
        if (target == typeof(bool) && raw is string s) return bool.Parse(s);
        if (target.IsEnum) return Enum.Parse(target, raw.ToString()!, ignoreCase: true);
        return System.Convert.ChangeType(raw, target, CultureInfo.InvariantCulture);
    }

    private static string FriendlyType(Type t) => t == typeof(double) ? "number" : t == typeof(int) ? "whole number"
        : t == typeof(bool) ? "boolean" : t.IsArray ? $"list of {FriendlyType(t.GetElementType()!)}" : t.Name;
}
