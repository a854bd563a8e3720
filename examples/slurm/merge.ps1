#Requires -Version 7.6
<#
.SYNOPSIS
    Merges the rows of a Slurm sweep (submit.ps1) into one CSV in plan order, and reports the rows that did not finish
    with what the ledger says about them (Started: the task died, its checkpoint is named; Failed: the error).
.EXAMPLE
    ./examples/slurm/merge.ps1 -SharedFolder /shared/kd/sweep1 -OutputPath sweep.csv | Format-Table Row, Method, Seed, Top1
#>
param(
    [Parameter(Mandatory)] [string] $SharedFolder,
    [string] $OutputPath = (Join-Path $PWD 'slurm-sweep.csv'),
    # KdTools' manifest or name: its ledger reader reports unfinished rows.
    [string] $ModulePath = 'KdTools'
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module $ModulePath }
$plan = @(Import-Csv (Join-Path $SharedFolder 'plan.csv'))
$rows = @(for ($r = 1; $r -le $plan.Count; $r++) {
        $file = Join-Path $SharedFolder 'rows' "$r.csv"
        if (Test-Path $file) { Import-Csv $file }
    })
$rows | Export-Csv $OutputPath -NoTypeInformation
$missing = @(1..$plan.Count | Where-Object { $_ -notin $rows.Row })
if ($missing.Count -gt 0) {
    $ledger = Join-Path $SharedFolder 'sweep.csv'
    if (Test-Path $ledger) {
        foreach ($entry in [KdTools.Core.Sweeps.SweepLedger]::new($ledger).Latest() | Where-Object Status -ne 'Completed') {
            $where = if ($entry.Checkpoint) { ", checkpoint $($entry.Checkpoint)" } else { '' }
            $why = if ($entry.ErrorId) { " ($($entry.ErrorId): $($entry.Error))" } else { '' }
            Write-Warning "unfinished on $($entry.Host) (process $($entry.Process)): $($entry.Status)$why$where; row $($entry.Key)"
        }
    }
    Write-Warning ("rows {0} of {1} did not finish; requeue their tasks (scontrol requeue <job>_<row-1>; Slurm holds a requeued task about two minutes unless you then run scontrol update JobId=<job>_<row-1> StartTime=now) or submit the plan again with the same -SharedFolder" -f ($missing -join ', '), $plan.Count)
}
$rows
