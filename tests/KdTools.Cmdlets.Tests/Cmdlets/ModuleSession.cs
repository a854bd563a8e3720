using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>
/// The whole pwsh 7.6.9 engine (Microsoft.PowerShell.SDK), hosted in-process with its Utility and Management cmdlets, and
/// the built module imported by its manifest (module/KdTools.psd1, published by ./build.sh). One runspace shared by the
/// cmdlet test classes keeps imports cheap.
/// </summary>
public sealed class ModuleSession : IDisposable
{
    private readonly Runspace _runspace;

    public ModuleSession()
    {
        var state = InitialSessionState.CreateDefault();
        _runspace = RunspaceFactory.CreateRunspace(state);
        _runspace.Open();
        var import = Run($"Import-Module '{ManifestPath}' -ErrorAction Stop; Get-Module KdTools");
        if (import.Errors.Count > 0) throw new InvalidOperationException("Import-Module failed: " + import.Errors[0]);
    }

    public static string RepositoryRoot { get; } = FindRoot();

    public static string ManifestPath => Path.Combine(RepositoryRoot, "module", "KdTools.psd1");

    /// <summary>Runs a script, capturing every stream; never throws for PowerShell errors (tests assert on them).</summary>
    public Result Run(string script, Action<PowerShell>? whileRunning = null)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        Collection<PSObject> output = [];
        Exception? terminating = null;
        try
        {
            if (whileRunning is null)
            {
                output = ps.Invoke();
            }
            else
            {
                var async = ps.BeginInvoke();
                whileRunning(ps);
                output = ps.EndInvoke(async).ReadAll().Aggregate(new Collection<PSObject>(), (c, o) => { c.Add(o); return c; });
            }
        }
        catch (RuntimeException ex)
        {
            // Includes PipelineStoppedException (a stopped pipeline).
            terminating = ex;
        }
        return new Result(output, ps.Streams.Error.ToList(), ps.Streams.Verbose.Select(v => v.Message).ToList(),
            ps.Streams.Warning.Select(w => w.Message).ToList(), ps.Streams.Progress.ToList(), terminating, ps.InvocationStateInfo.State);
    }

    public void Dispose() => _runspace.Dispose();

    public sealed record Result(
        Collection<PSObject> Output,
        List<ErrorRecord> Errors,
        List<string> Verbose,
        List<string> Warnings,
        List<ProgressRecord> Progress,
        Exception? Terminating,
        PSInvocationState State)
    {
        /// <summary>The error id of the first error, terminating or not (the part before the comma of FullyQualifiedErrorId).</summary>
        public string? FirstErrorId =>
            (Errors.FirstOrDefault() ?? (Terminating as IContainsErrorRecord)?.ErrorRecord)?.FullyQualifiedErrorId.Split(',')[0];

        public ErrorRecord? FirstError => Errors.FirstOrDefault() ?? (Terminating as IContainsErrorRecord)?.ErrorRecord;

        public void AssertSucceeded()
        {
            Assert.True(Terminating is null && Errors.Count == 0,
                $"expected success, got: {FirstError?.ToString() ?? Terminating?.Message}");
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KdTools.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("KdTools.sln not found above the test binaries");
    }
}

public static class PSObjectExtensions
{
    /// <summary>A property as PowerShell sees it (the module's types are not referenced at compile time).</summary>
    public static object? Prop(this PSObject o, string name) =>
        (o.Properties[name] ?? throw new Xunit.Sdk.XunitException($"no property '{name}' on {o.TypeNames[0]}")).Value;
}

/// <summary>One engine with the module imported, shared by the cmdlet test classes.</summary>
public sealed class ModuleFixture : IDisposable
{
    public ModuleSession Session { get; } = new();
    public void Dispose() => Session.Dispose();
}

[CollectionDefinition("module")]
public sealed class ModuleCollection : ICollectionFixture<ModuleFixture>;
