using System.Diagnostics;
using System.Management.Automation;
using KdTools.Host.Hosting;

namespace KdTools.Host.Pester;

/// <summary>Receives results from the run phase, prints one line per test and keeps the results.</summary>
public sealed class PesterReporter(string file, TextWriter output)
{
    private readonly Stopwatch _clock = new();

    internal List<PesterTestResult> Results { get; } = [];
    internal List<string> ContainerFailures { get; } = [];

    public void TestStarting() => _clock.Restart();

    public void TestFinished(TestCase test, ErrorRecord? failure) =>
        Record(test, failure is null ? null : Describe(failure), _clock.Elapsed);

    /// <summary>As in Pester, an error in BeforeAll fails every test of the block, nested blocks included.</summary>
    public void BlockSetupFailed(TestBlock block, ErrorRecord error)
    {
        var message = "BeforeAll failed: " + Describe(error);
        foreach (var test in block.AllTests()) Record(test, message, TimeSpan.Zero);
    }

    public void BlockTeardownFailed(TestBlock block, ErrorRecord error) =>
        FailContainer(string.Join(" > ", block.Path.DefaultIfEmpty(Path.GetFileName(file))) + " > AfterAll", Describe(error));

    internal void FailContainer(string what, string message)
    {
        ContainerFailures.Add($"{what}: {message}");
        output.WriteLine($"  [-] {what}");
        WriteIndented(message);
    }

    private void Record(TestCase test, string? failure, TimeSpan duration)
    {
        Results.Add(new PesterTestResult(file, test.FullName, failure is null, failure, duration));
        output.WriteLine($"  [{(failure is null ? '+' : '-')}] {test.FullName} ({duration.TotalMilliseconds:0} ms)");
        if (failure is not null) WriteIndented(failure);
    }

    private void WriteIndented(string text)
    {
        foreach (var line in text.Split('\n')) output.WriteLine("      " + line.TrimEnd('\r'));
    }

    /// <summary>The failure text of an error: the message (prefixed by the exception type unless it is a Should failure) and where it happened.</summary>
    /// <param name="thrown">The exception the record came from, when caught in C#: its record then holds only a stand-in exception.</param>
    internal static string Describe(ErrorRecord error, Exception? thrown = null)
    {
        var exception = thrown ?? error.Exception;
        var message = thrown?.Message ?? ErrorText.Message(error);
        var text = exception is ShouldAssertionException ? message : $"{exception.GetType().Name}: {message}";
        if (exception is not ShouldAssertionException && error.FullyQualifiedErrorId != message)
            text += $" (FullyQualifiedErrorId: {error.FullyQualifiedErrorId})";
        if (error.InvocationInfo is { ScriptName.Length: > 0 } at)
            text += $"\nat {at.Line.Trim()}, {at.ScriptName}:{at.ScriptLineNumber}";
        return text;
    }
}
