using System.Reflection;

namespace KdTools.Core.Data;

/// <summary>Dataset layouts by name (case-insensitive), discovered from the <see cref="DatasetFormat"/> subclasses.</summary>
public static class DatasetFormatRegistry
{
    private static readonly Dictionary<string, DatasetFormat> ByName = new(StringComparer.OrdinalIgnoreCase);
    private static readonly object Gate = new();

    static DatasetFormatRegistry() => RegisterAssembly(typeof(DatasetFormatRegistry).Assembly);

    /// <summary>Every format, in detection order.</summary>
    public static IReadOnlyList<DatasetFormat> All
    {
        get { lock (Gate) return ByName.Values.OrderBy(f => f.DetectionOrder).ThenBy(f => f.Name, StringComparer.Ordinal).ToList(); }
    }

    /// <summary>Registers every concrete <see cref="DatasetFormat"/> of an assembly (for layouts defined outside KdTools).</summary>
    public static void RegisterAssembly(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes().Where(t => !t.IsAbstract && typeof(DatasetFormat).IsAssignableFrom(t)
                                                            && t.GetConstructor(Type.EmptyTypes) is not null))
            Register((DatasetFormat)Activator.CreateInstance(type)!);
    }

    /// <summary>Adds <paramref name="format"/>, replacing a registered format of the same name.</summary>
    public static void Register(DatasetFormat format)
    {
        lock (Gate) ByName[format.Name] = format;
    }

    /// <summary>The format called <paramref name="name"/>; an unknown name fails listing the known ones.</summary>
    public static DatasetFormat Get(string name)
    {
        lock (Gate)
        {
            if (ByName.TryGetValue(name, out var format)) return format;
        }
        throw new KdException(KdErrorIds.DatasetFormatUnknown, KdErrorKind.InvalidArgument,
            UnknownName.Message("dataset format", name, All.Select(f => f.Name)), name);
    }

    /// <summary>The first format, in detection order, that recognises <paramref name="folder"/> (which exists).</summary>
    public static DatasetFormat Detect(string folder) =>
        All.FirstOrDefault(format => format.Recognizes(folder))
        ?? throw new KdException(KdErrorIds.DatasetFormatUnknown, KdErrorKind.InvalidData,
            $"'{folder}' is not a dataset folder KdTools knows: expected {DescribeLayouts()}", folder);

    /// <summary>Every layout as one phrase: "A, B, or C".</summary>
    internal static string DescribeLayouts()
    {
        var layouts = All.Select(f => f.Layout).ToList();
        return layouts.Count == 1 ? layouts[0] : string.Join(", ", layouts.Take(layouts.Count - 1)) + ", or " + layouts[^1];
    }
}
