using System.Management.Automation;
using KdTools.Host.Hosting;

namespace KdTools.Host.Shims;

/// <summary>Out-String rendered by the engine's own Out-Default into a string (kdhost only), with -Stream for one string per line.</summary>
[Cmdlet(VerbsData.Out, "String")]
public sealed class OutStringCommand : PSCmdlet
{
    private readonly List<PSObject> _inputs = [];

    [Parameter(ValueFromPipeline = true)] public PSObject? InputObject { get; set; }
    [Parameter] public SwitchParameter Stream { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _inputs.Add(InputObject);
    }

    protected override void EndProcessing()
    {
        if (Host.PrivateData?.BaseObject is not KdHostUserInterface ui)
        {
            ThrowTerminatingError(new ErrorRecord(new PSNotSupportedException("The Out-String shim renders through kdhost's host and works only under kdhost."),
                "OutStringShimNeedsKdhost", ErrorCategory.NotImplemented, null));
            return;
        }
        var text = ui.Capture(() =>
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            ps.AddCommand("Out-Default").Invoke(_inputs);
        });
        if (!Stream) { WriteObject(text); return; }
        foreach (var line in text.TrimEnd('\r', '\n').Split('\n')) WriteObject(line.TrimEnd('\r'));
    }
}
