using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text.RegularExpressions;

namespace KdTools.Host.Hosting;

/// <summary>
/// Console-less user interface: ordinary output, verbose and debug lines go to <c>output</c>,
/// warnings and errors to <c>error</c>, progress to an optional single status line. Colours are ignored.
/// </summary>
internal sealed partial class KdHostUserInterface(TextWriter output, TextWriter error, ProgressLine? progress) : PSHostUserInterface
{
    private readonly Stack<StringWriter> _captures = new();

    /// <summary>No raw console: the formatting engine then falls back to its fixed default width.</summary>
    public override PSHostRawUserInterface? RawUI => null;

    private TextWriter Output => _captures.Count > 0 ? _captures.Peek() : output;

    /// <summary>Redirects ordinary host output into a string while <paramref name="render"/> runs (used by the Out-String shim).</summary>
    public string Capture(Action render)
    {
        var buffer = new StringWriter();
        _captures.Push(buffer);
        try { render(); }
        finally { _captures.Pop(); }
        return buffer.ToString();
    }

    public override void Write(string value) => WriteOut(value, newLine: false);
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => WriteOut(value, newLine: false);
    public override void WriteLine(string value) => WriteOut(value, newLine: true);
    public override void WriteVerboseLine(string message) => WriteOut("VERBOSE: " + message, newLine: true);
    public override void WriteDebugLine(string message) => WriteOut("DEBUG: " + message, newLine: true);
    public override void WriteWarningLine(string message) => WriteErr("WARNING: " + message);
    public override void WriteErrorLine(string value) => WriteErr(value);

    public override void WriteProgress(long sourceId, ProgressRecord record) => progress?.Show(record);

    public override string ReadLine() => throw NonInteractive("read a line of input");
    public override SecureString ReadLineAsSecureString() => throw NonInteractive("read a secure string");
    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
        throw NonInteractive($"prompt for {string.Join(", ", descriptions.Select(d => d.Name))}");
    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) =>
        throw NonInteractive($"ask '{message}'");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw NonInteractive("prompt for a credential");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw NonInteractive("prompt for a credential");

    private void WriteOut(string text, bool newLine)
    {
        if (_captures.Count == 0) progress?.Clear();
        var plain = AnsiEscape().Replace(text, "");
        if (newLine) Output.WriteLine(plain); else Output.Write(plain);
    }

    private void WriteErr(string line)
    {
        progress?.Clear();
        error.WriteLine(AnsiEscape().Replace(line, ""));
    }

    private static PSInvalidOperationException NonInteractive(string what) =>
        new($"kdhost is non-interactive and cannot {what}; pass every value the script needs as a parameter.");

    // The formatting engine colours table headers with SGR sequences; this host promises plain text.
    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}
