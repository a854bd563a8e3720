using System.Management.Automation;

namespace KdTools.Host.Shims;

/// <summary>Get-Date: now, or -Date; with -Format a .NET format string, the result is text.</summary>
[Cmdlet(VerbsCommon.Get, "Date")]
public sealed class GetDateCommand : PSCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)] public DateTime? Date { get; set; }
    [Parameter] public string? Format { get; set; }

    protected override void ProcessRecord()
    {
        var date = Date ?? DateTime.Now;
        WriteObject(Format is null ? date : date.ToString(Format));
    }
}

/// <summary>Start-Sleep -Seconds (fractions allowed) or -Milliseconds; Ctrl+C / Stop() ends the wait.</summary>
[Cmdlet(VerbsLifecycle.Start, "Sleep", DefaultParameterSetName = "Seconds")]
public sealed class StartSleepCommand : PSCmdlet, IDisposable
{
    private readonly ManualResetEventSlim _stopped = new();

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Seconds")] public double Seconds { get; set; }
    [Parameter(Mandatory = true, ParameterSetName = "Milliseconds"), Alias("ms")] public int Milliseconds { get; set; }

    protected override void ProcessRecord() =>
        _stopped.Wait(ParameterSetName == "Seconds" ? TimeSpan.FromSeconds(Seconds) : TimeSpan.FromMilliseconds(Milliseconds));

    protected override void StopProcessing() => _stopped.Set();

    public void Dispose() => _stopped.Dispose();
}
