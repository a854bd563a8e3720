using System.Management.Automation;
using System.Reflection;
using System.Management.Automation.Runspaces;
using KdTools.Host.Hosting;
using KdTools.Host.Pester;

namespace KdTools.Host;

/// <summary>One test's outcome; <see cref="Name"/> is "Describe > Context > It".</summary>
public sealed record PesterTestResult(string File, string Name, bool Passed, string? FailureMessage, TimeSpan Duration);

/// <summary>All results of a run; <see cref="ContainerFailures"/> are files that failed to load and failing AfterAll blocks.</summary>
public sealed record PesterSummary(IReadOnlyList<PesterTestResult> Tests, IReadOnlyList<string> ContainerFailures)
{
    public int Passed => Tests.Count(t => t.Passed);
    public int Failed => Tests.Count(t => !t.Passed);
    public bool Succeeded => Failed == 0 && ContainerFailures.Count == 0;
}

/// <summary>
/// Runs Pester 5 style *.Tests.ps1 files: each file in a fresh runspace, first discovery (the file and its Describe
/// bodies run, collecting tests), then the run phase. Ends with "Tests: N passed, M failed".
/// </summary>
public static class PesterRunner
{
    public static PesterSummary Run(IEnumerable<string> paths, TextWriter output) => Run(paths, output, output);

    /// <param name="paths">Test files, or folders searched recursively for *.Tests.ps1.</param>
    /// <param name="output">Test results and host output of the tests.</param>
    /// <param name="error">Warnings and non-terminating errors written by the tests.</param>
    public static PesterSummary Run(IEnumerable<string> paths, TextWriter output, TextWriter error)
    {
        var tests = new List<PesterTestResult>();
        var containerFailures = new List<string>();
        foreach (var path in paths.Select(Path.GetFullPath))
        {
            var files = Directory.Exists(path)
                ? Directory.EnumerateFiles(path, "*.Tests.ps1", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
                : [path];
            foreach (var file in files)
            {
                var reporter = new PesterReporter(file, output);
                RunFile(file, reporter, output, error);
                tests.AddRange(reporter.Results);
                containerFailures.AddRange(reporter.ContainerFailures);
            }
        }
        var summary = new PesterSummary(tests, containerFailures);
        if (containerFailures.Count > 0) output.WriteLine($"Containers failed: {containerFailures.Count}");
        output.WriteLine($"Tests: {summary.Passed} passed, {summary.Failed} failed");
        return summary;
    }

    private static void RunFile(string file, PesterReporter reporter, TextWriter output, TextWriter error)
    {
        output.WriteLine($"Running tests from '{file}'");
        if (!File.Exists(file)) { reporter.FailContainer(file, "The test file does not exist."); return; }

        var discovery = new Discovery();
        var testDrive = Directory.CreateTempSubdirectory("kdhost-testdrive-");
        try
        {
            using var session = new HostedSession(output, error, progress: null, CreateState(discovery, testDrive.FullName));
            var fileSystem = session.Runspace.SessionStateProxy.Provider.GetOne("FileSystem");
            session.Runspace.SessionStateProxy.Drive.New(new PSDriveInfo("TestDrive", fileSystem, testDrive.FullName, "Pester TestDrive", null), "global");

            if (!TryInvoke(session, ps => ps.AddCommand(file), reporter, file + " (discovery)")) return;
            TryInvoke(session, ps => ps.AddCommand(RunPhaseScript.FunctionName).AddArgument(discovery.Root).AddArgument(reporter), reporter, file);
        }
        finally
        {
            testDrive.Delete(recursive: true);
        }
    }

    private static bool TryInvoke(HostedSession session, Action<PowerShell> build, PesterReporter reporter, string what)
    {
        using var ps = session.CreatePowerShell();
        build(ps);
        try
        {
            ps.Invoke();
            return true;
        }
        catch (RuntimeException e)
        {
            reporter.FailContainer(what, PesterReporter.Describe(e.ErrorRecord, e));
            return false;
        }
    }

    private static InitialSessionState CreateState(Discovery discovery, string testDrive)
    {
        var state = HostedSession.CreateState();
        state.Variables.Add(new SessionStateVariableEntry(Discovery.VariableName, discovery, "PesterLite discovery state", ScopedItemOptions.Constant));
        state.Variables.Add(new SessionStateVariableEntry("TestDrive", testDrive, "Pester TestDrive folder of this test file"));
        state.Commands.Add(new SessionStateFunctionEntry(RunPhaseScript.FunctionName, RunPhaseScript.Body));
        // Cmdlet names must be Verb-Noun, so Pester's keywords are aliases of the PesterLite cmdlets.
        foreach (var (keyword, type) in DslKeywords)
        {
            var cmdlet = type.GetCustomAttribute<CmdletAttribute>()!;
            var name = $"{cmdlet.VerbName}-{cmdlet.NounName}";
            if (state.Commands[name].Count == 0) state.Commands.Add(new SessionStateCmdletEntry(name, type, null));
            state.Commands.Add(new SessionStateAliasEntry(keyword, name));
        }
        return state;
    }

    private static readonly (string Keyword, Type Type)[] DslKeywords =
    [
        ("Describe", typeof(DescribeCommand)), ("Context", typeof(DescribeCommand)), ("It", typeof(ItCommand)),
        ("BeforeAll", typeof(BeforeAllCommand)), ("AfterAll", typeof(AfterAllCommand)),
        ("BeforeEach", typeof(BeforeEachCommand)), ("AfterEach", typeof(AfterEachCommand)), ("Should", typeof(ShouldCommand)),
    ];
}
