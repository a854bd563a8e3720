using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Emits the history of the runs piped in, one flat KdEpoch row per epoch of every stage (pre-stages first):
/// learning curves in long format, for Export-Csv or plotting. -IncludeEarlierRuns adds the epochs of the runs a
/// method made before its own (TAKD's assistant) ahead of each run's.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "KdHistory")]
[OutputType(typeof(KdEpoch))]
public sealed class GetKdHistoryCommand : KdCmdlet
{
    /// <summary>A run from Invoke-Distillation.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public KdRun Run { get; set; } = null!;

    [Parameter]
    public SwitchParameter IncludeEarlierRuns { get; set; }

    protected override void ProcessRecord() => Emit(Run);

    private void Emit(KdRun run)
    {
        if (IncludeEarlierRuns)
            foreach (var earlier in run.EarlierRuns) Emit(earlier);
        WriteObject(run.History, enumerateCollection: true);
    }
}
