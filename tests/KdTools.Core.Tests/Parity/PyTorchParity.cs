using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KdTools.Core.Tests.Parity;

/// <summary>One compared architecture or training run, as tests/parity/compare.py reports it.</summary>
public sealed record ParityRow
{
    [JsonPropertyName("kind")] public required string Kind { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("dtype")] public required string Dtype { get; init; }
    [JsonPropertyName("passed")] public required bool Passed { get; init; }
    [JsonPropertyName("errors")] public Dictionary<string, double> Errors { get; init; } = [];
    [JsonPropertyName("worst")] public Dictionary<string, string?> Worst { get; init; } = [];
    [JsonPropertyName("notes")] public List<string> Notes { get; init; } = [];

    /// <summary>Every group's worst relative error and where it occurred, then the notes.</summary>
    public string Describe() =>
        $"{Kind} {Name} {Dtype}: "
        + string.Join(", ", Errors.Select(e => $"{e.Key} {e.Value:G3}" + (Worst.GetValueOrDefault(e.Key) is { } w ? $" ({w})" : "")))
        + (Notes.Count > 0 ? "; " + string.Join("; ", Notes) : "");
}

/// <summary>Runs the PyTorch side (Debian's python3-torch) over an export folder.</summary>
internal static class PyTorchParity
{
    public const string Python = "/usr/bin/python3";

    /// <summary>tests/parity/compare.py, found by walking up from the test binaries to the repository.</summary>
    public static string Script { get; } = FindScript();

    /// <summary>Compares everything under <paramref name="folder"/>; returns the rows and the printed table.</summary>
    public static (IReadOnlyList<ParityRow> Rows, string Table) Compare(string folder)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(folder);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        var error = process.StandardError.ReadToEndAsync();
        string table = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var results = Path.Combine(folder, "results.json");
        if (!File.Exists(results))
            throw new InvalidOperationException($"{Python} {Script} wrote no results (exit code {process.ExitCode}); is python3-torch installed? " +
                $"./build.sh test installs it. Its output:\n{table}\n{error.Result}");
        var rows = JsonSerializer.Deserialize<List<ParityRow>>(File.ReadAllText(results),
            new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals })!;
        return (rows, table);
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "parity", "compare.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("tests/parity/compare.py not found above the test binaries");
    }
}
