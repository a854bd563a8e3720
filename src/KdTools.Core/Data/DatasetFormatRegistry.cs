using System.Reflection;

namespace KdTools.Core.Data;

/// <summary>
/// Dataset layouts by name (case-insensitive), discovered from the [Registered] <see cref="DatasetFormat"/> classes;
/// an unknown name fails suggesting the closest and listing the known ones.
/// </summary>
public static class DatasetFormatRegistry
{
    private static readonly Registry<DatasetFormat> Entries = new("dataset format", KdErrorIds.DatasetFormatUnknown, f => f.Name,
        type => typeof(DatasetFormat).IsAssignableFrom(type) && type.GetConstructor(Type.EmptyTypes) is { } constructor
            ? [(DatasetFormat)constructor.Invoke(null)]
            : [],
        formats => formats.OrderBy(f => f.DetectionOrder).ThenBy(f => f.Name, StringComparer.Ordinal));

    /// <summary>Every format, in detection order.</summary>
    public static IReadOnlyList<DatasetFormat> All => Entries.All;

    /// <summary>Registers every [Registered] <see cref="DatasetFormat"/> of an assembly (for layouts defined outside KdTools).</summary>
    public static void RegisterAssembly(Assembly assembly) => Entries.RegisterAssembly(assembly);

    /// <summary>Adds <paramref name="format"/>, replacing a registered format of the same name.</summary>
    public static void Register(DatasetFormat format) => Entries.Register(format);

    /// <summary>The format called <paramref name="name"/>; an unknown name fails suggesting the closest and listing the known ones.</summary>
    public static DatasetFormat Get(string name) => Entries.Get(name);

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
