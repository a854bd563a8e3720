using KdTools.Host.Hosting;

namespace KdTools.Host;

internal static class Program
{
    private const int UsageError = 64;

    private const string Usage = """
        kdhost - runs PowerShell scripts and Pester-style tests without pwsh.

          kdhost run <script.ps1> [arguments...]   run a script (arguments bind like pwsh -File)
          kdhost <script.ps1> [arguments...]       same as run
          kdhost pester [file-or-folder...]        run *.Tests.ps1 files (default: current folder)
        """;

    private static int Main(string[] args)
    {
        switch (args)
        {
            case [] or ["-h" or "--help" or "-?" or "help"]:
                Console.WriteLine(Usage);
                return args.Length == 0 ? UsageError : 0;
            case ["run"]:
                Console.Error.WriteLine(Usage);
                return UsageError;
            case ["run", var script, .. var rest]:
                return ScriptRunner.Run(script, rest, Console.Out, Console.Error, TerminalProgress());
            case ["pester", .. var paths]:
                var summary = PesterRunner.Run(paths.Length == 0 ? ["."] : paths, Console.Out, Console.Error);
                return summary.Succeeded ? 0 : 1;
            case [var script, .. var rest] when script.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase):
                return ScriptRunner.Run(script, rest, Console.Out, Console.Error, TerminalProgress());
            default:
                Console.Error.WriteLine($"kdhost: unknown command '{args[0]}'.");
                Console.Error.WriteLine(Usage);
                return UsageError;
        }
    }

    /// <summary>Progress is drawn only on an interactive stderr; redirected runs (CI logs) stay free of carriage returns.</summary>
    private static ProgressLine? TerminalProgress()
    {
        if (Console.IsErrorRedirected) return null;
        var width = Math.Max(Console.WindowWidth - 1, 40);
        return new ProgressLine(Console.Error, width, TimeSpan.FromMilliseconds(200));
    }
}
