using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;

namespace KdTools.Cmdlets.Commands;

/// <summary>Writes the epochs of runs, one row per epoch: learning curves for Export-Csv or a plot.</summary>
/// <remarks>
/// <para>Every run from Invoke-Distillation carries its history; Get-KdHistory writes it as flat KdEpoch rows, one per
/// epoch of every stage, pre-stages first (FitNet's hint stage, FT's paraphraser, ...: Stage names them, "train" is the
/// main stage). Each row has the run's method, student, teacher and seed, the epoch's learning rate, training loss and
/// top-1, test loss, top-1 and top-5, its loss terms and its duration, so the rows of many runs go into one CSV (long
/// format).</para>
/// <para>-IncludeEarlierRuns adds the epochs of the runs a method made before its own (TAKD's assistant) ahead of each
/// run's.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $run = $teacher | Invoke-Distillation -Student resnet8 -Method FitNet -MethodOption @{ HintEpochs = 1 } -Dataset $data -Epochs 2
/// $run | Get-KdHistory
/// </code>
/// <para>FitNet's hint epoch, then its two training epochs, with the learning rate, losses and accuracies of each.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $runs = 'KD', 'CE' | ForEach-Object { $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs 2 }
/// $runs | Get-KdHistory | Export-Csv ./curves.csv
/// Import-Csv ./curves.csv | Group-Object Method | Select-Object Name, Count
/// </code>
/// <para>The learning curves of a KD student and its CE baseline in one CSV, two rows per run.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet14 -Dataset $data -Epochs 1
/// $run = $teacher | Invoke-Distillation -Student resnet8 -Method TAKD -MethodOption @{ Assistant = 'resnet8' } -Dataset $data -Epochs 1
/// $run | Get-KdHistory -IncludeEarlierRuns | Format-Table Student, Teacher, Stage, Epoch, TestTop1
/// </code>
/// <para>TAKD's two runs: the assistant's epochs (taught by the teacher), then the student's (taught by the
/// assistant).</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "KdHistory")]
[OutputType(typeof(KdEpoch))]
public sealed class GetKdHistoryCommand : KdCmdlet
{
    /// <summary>A run from Invoke-Distillation. Usually piped in.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public KdRun Run { get; set; } = null!;

    /// <summary>Also write the epochs of the runs the method made before this one (TAKD's assistant), first.</summary>
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
