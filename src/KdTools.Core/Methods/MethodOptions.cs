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
    private string _preset = "";

    /// <summary>
    /// The named reference configurations this method declares (a paper's per-pair settings), chosen with
    /// <see cref="Preset"/>; empty for most methods, which then do not list a <c>Preset</c> option.
    /// </summary>
    public virtual IReadOnlyList<MethodPreset> Presets => [];

    /// <summary>
    /// Applies the named preset's values; options set afterwards override them (the binder sets this one first).
    /// </summary>
    [Description("A reference configuration to start from; options given beside it override its values.")]
    public string Preset
    {
        get => _preset;
        set
        {
            if (string.IsNullOrEmpty(value))
            {
                _preset = "";
                return;
            }
            var preset = Presets.FirstOrDefault(p => string.Equals(p.Name, value, StringComparison.OrdinalIgnoreCase))
                ?? throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                    Presets.Count == 0 ? $"option Preset = '{value}' is invalid: this method declares no presets"
                        : $"option Preset = '{value}' is invalid: {UnknownName.Message("preset", value, Presets.Select(p => p.Name))}",
                    nameof(Preset));
            foreach (var (name, presetValue) in preset.Values)
                (GetType().GetProperty(name) ?? throw new InvalidOperationException($"preset {preset.Name} sets unknown option {name}"))
                    .SetValue(this, presetValue);
            _preset = preset.Name;
        }
    }

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

    /// <summary>The names of the options the caller gave (set by the binder); null for options built in code.</summary>
    internal IReadOnlySet<string>? Given { get; set; }

    /// <summary>
    /// A pre-stage's share of the main stage in a quick recipe: RepDistiller runs its pre-stages for 30 of 240 epochs,
    /// so 1/8 of the main stage, at least 1 and never more than the paper's length.
    /// </summary>
    public static int QuickPreStageEpochs(int paperEpochs, int mainEpochs) =>
        Math.Min(paperEpochs, Math.Max(1, (int)Math.Round(mainEpochs / 8.0, MidpointRounding.AwayFromZero)));

    /// <summary>
    /// Fits the options the caller did not give to a quick run of <paramref name="mainEpochs"/> (the <c>Default</c>
    /// recipe; paper recipes keep the paper's values): pre-stages shrink to <see cref="QuickPreStageEpochs"/>, and
    /// <see cref="ApplyQuickRunDefaults"/> sets what else a short run needs. Options built in code are left as they are.
    /// </summary>
    public void FitToQuickRun(int mainEpochs)
    {
        if (Given is not { } given) return;
        foreach (var option in PreStageEpochOptions.Where(o => !given.Contains(o)))
        {
            var property = GetType().GetProperty(option)!;
            property.SetValue(this, QuickPreStageEpochs((int)property.GetValue(this)!, mainEpochs));
        }
        ApplyQuickRunDefaults(given);
        Validate();
    }

    /// <summary>Quick-run values of options the caller did not give (<paramref name="given"/>), besides the pre-stage lengths.</summary>
    protected virtual void ApplyQuickRunDefaults(IReadOnlySet<string> given)
    {
    }

    /// <summary>The options that set a pre-stage's epochs (<c>HintEpochs</c>); empty for single-stage methods.</summary>
    protected virtual IReadOnlyList<string> PreStageEpochOptions => [];

    protected static void Require(bool condition, string option, string rule, object value)
    {
        if (!condition)
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"option {option} = {Format(value)} is invalid: {rule}", option);
    }

    /// <summary>A weight or scale: a finite number ≥ 0.</summary>
    protected static void RequireNonNegative(double value, string option) =>
        Require(value >= 0 && double.IsFinite(value), option, "must be a finite number ≥ 0", value);

    /// <summary>
    /// Compact, culture-invariant "Name=value;..." text of every option, for one CSV column; <c>Preset</c> only when
    /// one was chosen (the values it set are listed anyway).
    /// </summary>
    public string ToCompactString() =>
        // Options left unset (an empty preset, a weight that defaults to a formula) are left out rather than shown empty.
        string.Join(";", MethodOptionInfo.For(GetType()).Select(o => (o.Name, Text: Format(o.Property.GetValue(this))))
            .Where(o => o.Text.Length > 0).Select(o => $"{o.Name}={o.Text}"));

    internal static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        double[] a => string.Join(",", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture))),
        int[] a => string.Join(",", a.Select(x => x.ToString(CultureInfo.InvariantCulture))),
        string s => s,
        System.Collections.IEnumerable items => string.Join(",", items.Cast<object?>().Select(Format)),
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
        var defaults = (MethodOptions)Activator.CreateInstance(optionsType)!;
        var presets = defaults.Presets;
        return optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite)
            // Preset is an option only of the methods that declare presets.
            .Where(p => p.Name != nameof(MethodOptions.Preset) || presets.Count > 0)
            // The method's own options first, then those it shares with a family (Beta, KdWeight, ...).
            .OrderByDescending(p => Depth(p.DeclaringType!))
            .ThenBy(p => p.MetadataToken)
            .Select(p => new MethodOptionInfo(p.Name, Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType, p.GetValue(defaults),
                Describe(p, presets), p))
            .ToList();
    }

    /// <summary>The [Description]; for <c>Preset</c> followed by every preset with its values and source.</summary>
    private static string Describe(PropertyInfo property, IReadOnlyList<MethodPreset> presets)
    {
        var text = property.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
        return property.Name != nameof(MethodOptions.Preset) ? text
            : $"{text} Presets: {string.Join("; ", presets.Select(p => $"{p.Name} ({p.ValuesText}; {p.Source})"))}.";
    }

    private static int Depth(Type t)
    {
        int depth = 0;
        for (var b = t.BaseType; b is not null; b = b.BaseType) depth++;
        return depth;
    }
}

/// <summary>Builds an options object from loosely typed values (PowerShell hashtables, CSV strings).</summary>
internal static class MethodOptionBinder
{
    public static T Bind<T>(string method, IReadOnlyDictionary<string, object?>? values) where T : MethodOptions, new() =>
        (T)Bind(method, typeof(T), values);

    public static MethodOptions Bind(string method, Type optionsType, IReadOnlyDictionary<string, object?>? values)
    {
        var options = (MethodOptions)Activator.CreateInstance(optionsType)!;
        var known = MethodOptionInfo.For(optionsType);
        var given = new HashSet<string>();
        // The preset first, so that the options given beside it override its values.
        foreach (var (key, raw) in (values ?? new Dictionary<string, object?>())
                     .OrderBy(v => !string.Equals(v.Key, nameof(MethodOptions.Preset), StringComparison.OrdinalIgnoreCase)))
        {
            var info = known.FirstOrDefault(o => string.Equals(o.Name, key, StringComparison.OrdinalIgnoreCase))
                ?? throw new KdException(KdErrorIds.MethodOptionUnknown, KdErrorKind.InvalidArgument,
                    $"unknown option '{key}' for method {method}{UnknownName.Suggestion(key, known.Select(o => o.Name))}; " +
                    $"valid options: {string.Join(", ", known.Select(o => o.Name))}", key);
            try
            {
                info.Property.SetValue(options, Convert(method, info, raw));
            }
            catch (TargetInvocationException e) when (e.InnerException is KdException rejected)
            {
                // A setter that checks its value (Preset) throws through reflection.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(rejected);
            }
            given.Add(info.Name);
        }
        options.ApplyDependentDefaults(given);
        options.Validate();
        options.Given = given;
        return options;
    }

    /// <summary>The value as the option's type, exactly (<see cref="ExactValue"/>): never rounded, never read in a locale.</summary>
    private static object? Convert(string method, MethodOptionInfo info, object? raw)
    {
        var target = info.Type;
        bool optional = !target.IsValueType || Nullable.GetUnderlyingType(info.Property.PropertyType) is not null;
        try
        {
            // An empty CSV cell leaves an optional number unset.
            if (raw is null || (optional && target.IsValueType && raw is string { Length: 0 }))
                return optional ? null : throw new FormatException("a value is required");
            return ExactValue.Convert(raw, target);
        }
        catch (FormatException ex)
        {
            var shown = raw is null ? "nothing" : $"'{MethodOptions.Format(raw)}' ({raw.GetType().Name})";
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"option {info.Name} of method {method} needs a {ExactValue.Describe(target)}, got {shown}: {ex.Message}", info.Name, ex);
        }
    }
}

/// <summary>
/// A named set of option values a method declares: a reference configuration such as a paper's per-pair setting.
/// </summary>
/// <param name="Name">What <c>-MethodOption @{ Preset = … }</c> takes (case-insensitive).</param>
/// <param name="Source">Where the values come from (a config file, a script line, a table).</param>
/// <param name="Values">Option names and typed values, applied in order.</param>
public sealed record MethodPreset(string Name, string Source, IReadOnlyList<KeyValuePair<string, object>> Values)
{
    /// <summary>"Beta=6,Temperature=4", for listings.</summary>
    public string ValuesText => string.Join(",", Values.Select(v => $"{v.Key}={MethodOptions.Format(v.Value)}"));

    /// <summary>A preset from (option, value) pairs.</summary>
    public static MethodPreset Of(string name, string source, params (string Option, object Value)[] values) =>
        new(name, source, values.Select(v => KeyValuePair.Create(v.Option, v.Value)).ToList());
}
