using System.Text.Json;

namespace KdTools.Core.Tests.Data;

/// <summary>
/// The files of Data/Fixtures (written by make_fixtures.py with PIL) and expected.json, what PIL decodes from them.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<JsonElement> Expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path("expected.json"))).RootElement);

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "Data", "Fixtures", .. parts]);

    /// <summary>The entry <paramref name="name"/> of expected.json.</summary>
    public static JsonElement Entry(string name) => Expected.Value.GetProperty(name);

    /// <summary>A decoded label map of expected.json: its width, height and row-major values.</summary>
    public static (int Width, int Height, byte[] Values) LabelMap(string name)
    {
        var entry = Entry(name);
        return (entry.GetProperty("width").GetInt32(), entry.GetProperty("height").GetInt32(),
            entry.GetProperty("values").EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray());
    }

    /// <summary>A writable copy of the fixture folder <paramref name="name"/> inside <paramref name="temp"/>.</summary>
    public static string CopyFolder(string name, TempFolder temp)
    {
        var source = Path(name);
        var target = temp.Combine(name);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        return target;
    }
}
