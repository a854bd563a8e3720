using System.Management.Automation;
using KdTools.Host.Hosting;

namespace KdTools.Host;

/// <summary>Runs a .ps1 file the way `pwsh -File` does, printing through kdhost's host.</summary>
public static class ScriptRunner
{
    /// <summary>
    /// Runs <paramref name="scriptPath"/> with <paramref name="arguments"/> (command-line syntax: -Name value, -Switch, positional).
    /// Pipeline output is rendered by the engine's Out-Default; host, verbose and debug text go to <paramref name="output"/>,
    /// warnings and errors to <paramref name="error"/>.
    /// </summary>
    /// <returns>1 after a terminating error; otherwise $LASTEXITCODE as left by `exit N` (or by a native program the script ran last), else 0.</returns>
    public static int Run(string scriptPath, IReadOnlyList<string> arguments, TextWriter output, TextWriter error) =>
        Run(scriptPath, arguments, output, error, progress: null);

    internal static int Run(string scriptPath, IReadOnlyList<string> arguments, TextWriter output, TextWriter error, ProgressLine? progress)
    {
        var fullPath = Path.GetFullPath(scriptPath);
        if (!File.Exists(fullPath))
        {
            error.WriteLine($"kdhost: the script '{fullPath}' does not exist.");
            return 1;
        }

        using var session = new HostedSession(output, error, progress, HostedSession.CreateState());
        using var ps = session.CreatePowerShell();
        var failures = new List<ErrorRecord>();
        // Invoking the file (not a script block) lets the engine absorb `exit N` into $LASTEXITCODE, and catching inside the
        // pipeline lets Out-Default flush what it buffered even when the script stops with an error.
        ps.AddScript(
                "param($__kdhostFailures) & { try { & " + ScriptArguments.Quote(fullPath) + ScriptArguments.ToPowerShellSyntax(arguments) +
                " } catch { $__kdhostFailures.Add($_) } } | Out-Default")
            .AddArgument(failures);
        ps.Invoke();

        if (failures.Count > 0)
        {
            session.UI.WriteErrorLine(ErrorText.Terminating(failures[0]));
            return 1;
        }
        return session.Runspace.SessionStateProxy.GetVariable("LASTEXITCODE") is int exitCode ? exitCode : 0;
    }
}
