using System.Reflection;

namespace KdTools.Core;

/// <summary>
/// Marks a type that adds entries to one of KdTools' registries, which finds it by this attribute (torchdistill's
/// <c>register_*</c> decorators): a distillation method (<see cref="Methods.DistillationMethodAttribute"/>, which
/// carries its listing), an architecture family (its static <c>Architectures()</c>), a dataset format, exit heads
/// (their <c>KindName</c> and static <c>FromConfiguration</c>). Adding one is one file with this attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public class RegisteredAttribute : Attribute;

/// <summary>
/// Named entries of one kind, discovered from the <see cref="RegisteredAttribute"/> types of KdTools.Core (and of any
/// assembly registered later). Lookups ignore case; an unknown name fails with one error that suggests the closest
/// known name and lists them all. Thread-safe.
/// </summary>
/// <typeparam name="T">The entry: what a name resolves to.</typeparam>
public sealed class Registry<T> where T : class
{
    private readonly Dictionary<string, T> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private readonly string _what;
    private readonly string _unknownErrorId;
    private readonly Func<T, string> _nameOf;
    private readonly Func<Type, IEnumerable<T>> _entriesOf;
    private readonly Func<IEnumerable<T>, IEnumerable<T>> _order;
    private readonly Func<T, string> _listedNameOf;
    private bool _discovered;

    /// <param name="what">What a name names, for errors ("architecture").</param>
    /// <param name="unknownErrorId">The id of the unknown-name error.</param>
    /// <param name="nameOf">An entry's registry key.</param>
    /// <param name="entriesOf">The entries a [Registered] type contributes (none for a type of another kind).</param>
    /// <param name="order">The listing order of <see cref="All"/>; registration order when null.</param>
    /// <param name="listedNameOf">
    /// The name the unknown-name error lists for an entry, where it differs from its key (a recipe with one variant per
    /// task is listed once by its name); the key when null.
    /// </param>
    internal Registry(string what, string unknownErrorId, Func<T, string> nameOf, Func<Type, IEnumerable<T>> entriesOf,
        Func<IEnumerable<T>, IEnumerable<T>>? order = null, Func<T, string>? listedNameOf = null)
    {
        (_what, _unknownErrorId, _nameOf, _entriesOf) = (what, unknownErrorId, nameOf, entriesOf);
        _order = order ?? (entries => entries);
        _listedNameOf = listedNameOf ?? nameOf;
    }

    /// <summary>Every entry, in listing order.</summary>
    public IReadOnlyList<T> All
    {
        get
        {
            lock (_gate)
            {
                Discover();
                return _order(_byName.Values).ToList();
            }
        }
    }

    public bool Contains(string name) => TryGet(name, out _);

    public bool TryGet(string name, out T entry)
    {
        lock (_gate)
        {
            Discover();
            return _byName.TryGetValue(name, out entry!);
        }
    }

    /// <summary>The entry called <paramref name="name"/>; an unknown name fails suggesting the closest and listing all.</summary>
    public T Get(string name) => TryGet(name, out var entry)
        ? entry
        : throw new KdException(_unknownErrorId, KdErrorKind.InvalidArgument, UnknownName.Message(_what, name, All.Select(_listedNameOf).Distinct(StringComparer.OrdinalIgnoreCase)), name);

    /// <summary>Adds <paramref name="entry"/>, replacing an entry of the same name.</summary>
    public void Register(T entry)
    {
        lock (_gate)
        {
            Discover();
            _byName[_nameOf(entry)] = entry;
        }
    }

    /// <summary>Registers the entries of every [Registered] type of <paramref name="assembly"/> (for additions outside KdTools).</summary>
    public void RegisterAssembly(Assembly assembly)
    {
        lock (_gate)
        {
            Discover();
            Add(assembly);
        }
    }

    private void Discover()
    {
        if (_discovered) return;
        _discovered = true;
        Add(typeof(Registry<T>).Assembly);
    }

    private void Add(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes().Where(t => !t.IsAbstract || t.IsSealed).Where(t => t.IsDefined(typeof(RegisteredAttribute), inherit: false)))
            foreach (var entry in _entriesOf(type))
                _byName[_nameOf(entry)] = entry;
    }

    /// <summary>The static method <paramref name="name"/> of a [Registered] type, which its kind requires.</summary>
    internal static MethodInfo StaticMethod(Type type, string name) =>
        type.GetMethod(name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"[Registered] {type.Name} must declare a static {name}");
}
