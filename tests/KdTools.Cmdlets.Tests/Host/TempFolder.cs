namespace KdTools.Cmdlets.Tests.Host;

/// <summary>A throw-away folder for the scripts and test files a test writes.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("kdhost-tests-").FullName;

    public string Write(string name, string content)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, content);
        return file;
    }

    public string Read(string name) => File.ReadAllText(System.IO.Path.Combine(Path, name));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Runs a script through <see cref="KdTools.Host.ScriptRunner"/> and keeps what it printed.</summary>
public sealed record ScriptRun(int ExitCode, string Output, string Error)
{
    public static ScriptRun Of(string scriptPath, params string[] arguments)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var exitCode = KdTools.Host.ScriptRunner.Run(scriptPath, arguments, output, error);
        return new ScriptRun(exitCode, output.ToString().ReplaceLineEndings("\n"), error.ToString().ReplaceLineEndings("\n"));
    }
}
