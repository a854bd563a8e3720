namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>A throw-away folder for the scripts and test files a test writes.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("kdtools-tests-").FullName;

    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string content)
    {
        var file = PathOf(name);
        File.WriteAllText(file, content);
        return file;
    }

    public string Read(string name) => File.ReadAllText(PathOf(name));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
