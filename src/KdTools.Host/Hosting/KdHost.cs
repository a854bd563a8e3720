using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;

namespace KdTools.Host.Hosting;

/// <summary>The PSHost behind kdhost. <see cref="PrivateData"/> exposes the UI so shims can capture rendered output.</summary>
internal sealed class KdHost(KdHostUserInterface ui) : PSHost
{
    private readonly PSObject _privateData = new(ui);

    public override string Name => "kdhost";
    public override Version Version { get; } = typeof(KdHost).Assembly.GetName().Version ?? new Version(0, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => ui;
    public override PSObject PrivateData => _privateData;
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    // Scripts run as script files, so the engine turns `exit N` into $LASTEXITCODE itself and never asks the host to exit.
    public override void SetShouldExit(int exitCode) { }

    public override void EnterNestedPrompt() =>
        throw new PSNotSupportedException("kdhost has no interactive prompt; nested prompts (debugger, Suspend) are not available.");
    public override void ExitNestedPrompt() =>
        throw new PSNotSupportedException("kdhost has no interactive prompt; nested prompts (debugger, Suspend) are not available.");
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}
