using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace KdTools.Host.Hosting;

/// <summary>An open runspace on a <see cref="KdHost"/>, with the missing Utility/Management shims registered.</summary>
internal sealed class HostedSession : IDisposable
{
    public HostedSession(TextWriter output, TextWriter error, ProgressLine? progress, InitialSessionState state)
    {
        UI = new KdHostUserInterface(output, error, progress);
        Runspace = RunspaceFactory.CreateRunspace(new KdHost(UI), state);
        Runspace.Open();
    }

    public KdHostUserInterface UI { get; }
    public Runspace Runspace { get; }

    /// <summary>The engine's default session plus shims for the commands it lacks.</summary>
    public static InitialSessionState CreateState()
    {
        var state = InitialSessionState.CreateDefault2();
        // Only Windows enforces execution policies (setting one elsewhere throws); kdhost runs scripts like `pwsh -ExecutionPolicy Bypass`.
        if (OperatingSystem.IsWindows()) state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
        Shims.ShimRegistry.AddMissing(state);
        return state;
    }

    /// <summary>
    /// A PowerShell on this runspace whose non-terminating errors are printed as they happen. Warning, verbose,
    /// progress and information records already reach the host UI, so their buffered copies are dropped to keep
    /// long-running scripts from accumulating them.
    /// </summary>
    public PowerShell CreatePowerShell()
    {
        var ps = PowerShell.Create();
        ps.Runspace = Runspace;
        var streams = ps.Streams;
        streams.Error.DataAdded += (_, e) => UI.WriteErrorLine(ErrorText.Concise(streams.Error[e.Index]));
        streams.Warning.DataAdded += (_, _) => streams.Warning.Clear();
        streams.Verbose.DataAdded += (_, _) => streams.Verbose.Clear();
        streams.Debug.DataAdded += (_, _) => streams.Debug.Clear();
        streams.Progress.DataAdded += (_, _) => streams.Progress.Clear();
        streams.Information.DataAdded += (_, _) => streams.Information.Clear();
        return ps;
    }

    public void Dispose() => Runspace.Dispose();
}
