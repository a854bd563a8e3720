using System.Collections;
using KdTools.Core.Methods;
using KdTools.Core.Training;

namespace KdTools.Core.Sweeps;

/// <summary>
/// One row of a distillation plan (a CSV row of hyper-parameters, <c>Import-Csv plan.csv | Invoke-Distillation</c>):
/// its cells read once, exactly and culture-invariantly, into typed values, then put on top of the request the command
/// line made, except where the command line gave a value itself. Other columns are ignored; an empty cell is no value.
/// </summary>
public sealed class PlanRow
{
    /// <summary>
    /// What a plan row may set, with each column's type: the run's student, method and hyper-parameters, never its inputs
    /// or plumbing. The names are <c>Invoke-Distillation</c>'s parameters.
    /// </summary>
    public static IReadOnlyList<(string Column, Type Type)> Columns { get; } =
    [
        ("Student", typeof(string)), ("Method", typeof(string)), ("MethodOption", typeof(IReadOnlyDictionary<string, object?>)),
        ("KdWeight", typeof(double)), ("Recipe", typeof(string)), ("Epochs", typeof(int)), ("BatchSize", typeof(int)),
        ("LearningRate", typeof(double)), ("Momentum", typeof(double)), ("Nesterov", typeof(bool)), ("WeightDecay", typeof(double)),
        ("LrSchedule", typeof(LearningRateScheduleKind)), ("LrMilestones", typeof(double[])), ("LrDecay", typeof(double)),
        ("Seed", typeof(long)), ("NoAugment", typeof(bool)), ("UseBest", typeof(bool)),
    ];

    /// <summary>Other names a column may have in a plan: a run's <c>Options</c> column is its MethodOption.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase) { ["MethodOption"] = "Options" };

    private readonly Dictionary<string, object> _values;

    private PlanRow(Dictionary<string, object> values) => _values = values;

    /// <summary>The row's values by column (case-insensitive), each of its column's type; absent for an empty cell.</summary>
    public IReadOnlyDictionary<string, object> Values => _values;

    /// <summary>
    /// Reads a row's cells (by column name, case-insensitive; values as given: text from a CSV, or numbers, booleans,
    /// arrays, a dictionary of options). A cell that is not exactly its column's type fails with
    /// <see cref="KdErrorIds.TrainingSettingInvalid"/>, naming the column and the value: that row's error.
    /// </summary>
    public static PlanRow Read(IReadOnlyDictionary<string, object?> cells)
    {
        var lookup = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, cell) in cells) lookup.TryAdd(name, cell);
        var values = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        foreach (var (column, type) in Columns)
        {
            if (!lookup.TryGetValue(column, out var value) && !(Aliases.TryGetValue(column, out var alias) && lookup.TryGetValue(alias, out value)))
                continue;
            if (value is null || value is string { Length: 0 }) continue;
            values[column] = Convert(column, type, value);
        }
        return new PlanRow(values);
    }

    private static object Convert(string column, Type type, object value)
    {
        try
        {
            if (type == typeof(IReadOnlyDictionary<string, object?>))
                return value switch
                {
                    IDictionary options => options.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value, StringComparer.OrdinalIgnoreCase),
                    _ => MethodOptionText.Parse(value.ToString()!),
                };
            // A string column (Student, Method, Recipe) takes the cell as written; every other cell must be exactly its type.
            return type == typeof(string) ? value.ToString()! : ExactValue.Convert(value, type);
        }
        catch (FormatException ex)
        {
            // The row's error, not the sweep's: the caller reports it and goes on with the next row.
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"the plan row's {column} = '{value}' is not a {Describe(type)}: {ex.Message}; " +
                "fix the row (values are read culture-invariantly: 0.05, not 0,05, and never rounded)", column, ex);
        }
    }

    private static string Describe(Type type) => type == typeof(IReadOnlyDictionary<string, object?>) ? "Hashtable" : ExactValue.Describe(type);

    /// <summary>
    /// <paramref name="request"/> with this row's values on top, except those <paramref name="given"/> names (what the
    /// command line gave: it wins over every row). A row's Student is an architecture name; without one the request
    /// must already name its student.
    /// </summary>
    public DistillationRequest ApplyTo(DistillationRequest request, IEnumerable<string> given)
    {
        var fixedByCaller = new HashSet<string>(given, StringComparer.OrdinalIgnoreCase);
        bool Has<T>(string column, out T value)
        {
            value = default!;
            if (fixedByCaller.Contains(column) || !_values.TryGetValue(column, out var cell)) return false;
            value = (T)cell;
            return true;
        }

        if (Has("Student", out string student))
            request = request with { StudentArchitecture = Models.ArchitectureRegistry.Get(student).Name, Student = null };
        if (request.Student is null && request.StudentArchitecture is null)
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                "the plan row has no Student: add a Student column (an architecture name) or pass -Student", "Student");
        if (Has("Method", out string method)) request = request with { MethodName = method };
        if (Has("MethodOption", out IReadOnlyDictionary<string, object?> options)) request = request with { MethodOptions = options };
        if (Has("KdWeight", out double kdWeight)) request = request with { KdWeight = kdWeight };
        if (Has("Recipe", out string recipe)) request = request with { Recipe = recipe };

        var o = request.Overrides ?? new TrainingOverrides();
        if (Has("Epochs", out int epochs)) o = o with { Epochs = epochs };
        if (Has("BatchSize", out int batch)) o = o with { BatchSize = batch };
        if (Has("LearningRate", out double rate)) o = o with { LearningRate = rate };
        if (Has("Momentum", out double momentum)) o = o with { Momentum = momentum };
        if (Has("Nesterov", out bool nesterov)) o = o with { Nesterov = nesterov };
        if (Has("WeightDecay", out double decay)) o = o with { WeightDecay = decay };
        if (Has("LrSchedule", out LearningRateScheduleKind schedule)) o = o with { LrSchedule = schedule };
        if (Has("LrMilestones", out double[] milestones)) o = o with { LrMilestones = milestones };
        if (Has("LrDecay", out double factor)) o = o with { LrDecay = factor };
        if (Has("Seed", out long seed)) o = o with { Seed = seed };
        if (Has("NoAugment", out bool noAugment)) o = o with { NoAugment = noAugment };
        if (Has("UseBest", out bool best)) o = o with { KeepBestWeights = best };
        return request with { Overrides = o };
    }
}
