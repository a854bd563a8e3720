using System.Reflection;

namespace KdTools.Core.Methods;

/// <summary>A registered method as listed by <c>Get-KdMethod</c>.</summary>
public sealed record MethodDescriptor(string Name, string Summary, string Paper, bool NeedsTeacher, Type MethodType, Type OptionsType)
{
    /// <summary>The prediction tasks the method defines its losses for.</summary>
    public IReadOnlyList<PredictionTask> Tasks { get; init; } = [PredictionTask.Classification];

    public IReadOnlyList<MethodOptionInfo> Options => MethodOptionInfo.For(OptionsType);

    /// <summary>
    /// The option that weights the method's Hinton KD term on the logits (a feature method's KdWeight, KD's Alpha), as
    /// its options class declares it (<see cref="LogitKdWeightAttribute"/>); null for a method without one.
    /// </summary>
    public string? KdWeightOption =>
        Options.FirstOrDefault(o => Attribute.IsDefined(o.Property, typeof(LogitKdWeightAttribute), inherit: true))?.Name;
}

/// <summary>
/// Methods by name (case-insensitive), discovered from the [DistillationMethod] classes; an unknown name fails
/// suggesting the closest and listing the known ones.
/// </summary>
public static class MethodRegistry
{
    private static readonly Registry<MethodDescriptor> Entries = new("method", KdErrorIds.MethodUnknown, m => m.Name, Descriptor);

    private static IEnumerable<MethodDescriptor> Descriptor(Type type)
    {
        if (type.IsAbstract || !typeof(DistillationMethod).IsAssignableFrom(type)) yield break;
        if (type.GetCustomAttribute<DistillationMethodAttribute>() is not { } attribute) yield break;
        yield return new MethodDescriptor(attribute.Name, attribute.Summary, attribute.Paper, attribute.NeedsTeacher, type, OptionsTypeOf(type))
        {
            Tasks = attribute.Tasks,
        };
    }

    public static IReadOnlyList<MethodDescriptor> All => Entries.All;

    /// <summary>Registers every [DistillationMethod] class of an assembly (for methods defined outside KdTools).</summary>
    public static void RegisterAssembly(Assembly assembly) => Entries.RegisterAssembly(assembly);

    public static MethodDescriptor Get(string name) => Entries.Get(name);

    public static bool TryGet(string name, out MethodDescriptor descriptor) => Entries.TryGet(name, out descriptor);

    /// <summary>Creates a method with options bound from <paramref name="options"/> (unknown keys fail).</summary>
    /// <param name="kdWeight">
    /// Weight α of the method's Hinton KD term: the option its descriptor names (<see cref="MethodDescriptor.KdWeightOption"/>);
    /// it overrides the same option in <paramref name="options"/>. A method without a KD term fails.
    /// </param>
    public static DistillationMethod Create(string name, IReadOnlyDictionary<string, object?>? options = null, double? kdWeight = null)
    {
        var info = Get(name);
        if (kdWeight is { } alpha) options = WithKdWeight(info, options, alpha);
        var bound = MethodOptionBinder.Bind(info.Name, info.OptionsType, options);
        return (DistillationMethod)Activator.CreateInstance(info.MethodType, bound)!;
    }

    private static Dictionary<string, object?> WithKdWeight(MethodDescriptor info, IReadOnlyDictionary<string, object?>? options, double alpha)
    {
        var key = info.KdWeightOption ?? throw new KdException(KdErrorIds.MethodOptionUnknown, KdErrorKind.InvalidArgument,
            $"method {info.Name} has no KD term to weight (it declares no logit-KD weight option; " +
            (info.Options.Count == 0 ? "it has no options)" : $"its options: {string.Join(", ", info.Options.Select(o => o.Name))})"), "KdWeight");
        var merged = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in options ?? new Dictionary<string, object?>()) merged[k] = v;
        merged[key] = alpha;
        return merged;
    }

    private static Type OptionsTypeOf(Type methodType)
    {
        for (var t = methodType; t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(DistillationMethod<>))
                return t.GetGenericArguments()[0];
        throw new InvalidOperationException($"{methodType.Name} must derive from DistillationMethod<TOptions>");
    }
}
