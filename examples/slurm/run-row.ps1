#Requires -Version 7.6
<#
.SYNOPSIS
    One array task of a Slurm sweep (submit.ps1 writes and submits it): runs plan row -Row + 1 against the shared ledger.
#>
param(
    [Parameter(Mandatory)] [string] $SweepFile,
    # The array task id: 0 for the plan's first row.
    [Parameter(Mandatory)] [int] $Row
)
$ErrorActionPreference = 'Stop'
$s = Get-Content $SweepFile -Raw | ConvertFrom-Json -AsHashtable
Import-Module $s.ModulePath
$data = if ($s.DatasetPath) { Get-KdDataset -Path $s.DatasetPath } else { $synthetic = $s.Synthetic; Get-KdDataset -Synthetic @synthetic }
$teacher = Import-KdModel $s.TeacherPath
$planRow = @(Import-Csv $s.Plan)[$Row]
# Skipped (completed before), resumed (killed before: from its checkpoint) or run; a failure is recorded and fails the task.
$run = $planRow | Invoke-Distillation -Teacher $teacher -Dataset $data -Student $s.Student -Threads $s.Threads `
    -BatchSize $s.BatchSize -ResultPath $s.Ledger -ErrorAction Continue -ErrorVariable failed
if ($failed) { exit 1 }
$file = Join-Path $s.Rows "$($Row + 1).csv"
$run | Select-Object @{ Name = 'Row'; Expression = { $Row + 1 } }, * | Export-Csv "$file.tmp" -NoTypeInformation
Move-Item "$file.tmp" $file -Force
"row $($Row + 1): $run"
