#Requires -Version 7.6
<#
.SYNOPSIS
    Submits a sweep to Slurm as a job array: one array task per plan row, every task appending to one ledger in a
    shared folder. Returns the job id; merge.ps1 collects the results.
.DESCRIPTION
    Writes the sweep's settings (sweep.json), the plan (plan.csv), the task script (run-row.ps1) and the batch script
    (sweep.sbatch) into -SharedFolder, a folder every node sees at the same path, then runs
    sbatch --array=0-(rows-1). Task i runs `pwsh -File run-row.ps1 -SweepFile <shared>/sweep.json -Row i`: plan row
    i+1 through Invoke-Distillation -ResultPath <shared>/sweep.csv (the ledger: one locked append per event, so the
    tasks never tear each other's lines; checkpoints in <shared>/sweep-checkpoints), and its run into rows/<i+1>.csv.

    A task that dies (killed, preempted, a node lost) leaves its row Started in the ledger with its checkpoint:
    requeue it (scontrol requeue <job>_<i>, then scontrol update JobId=<job>_<i> StartTime=now: Slurm otherwise holds a
    requeued task about two minutes) or submit the same plan again with the same -SharedFolder, and the row
    resumes from its checkpoint, ending bit-identical to an uninterrupted run; rows already completed are skipped. A row
    that fails (divergence, a bad option) is recorded as Failed and its task exits 1.

    Each node needs PowerShell 7.6 (-PwshCommand), KdTools (-ModulePath), the dataset and the teacher file.
    tests/pester/SlurmSweep.Tests.ps1 runs this against a single-node cluster it starts from Debian's slurm-wlm.
.EXAMPLE
    $job = ./examples/slurm/submit.ps1 -PlanPath plan.csv -SharedFolder /shared/kd/sweep1 -TeacherPath /shared/models/resnet56.safetensors `
        -DatasetPath /shared/data/cifar-100-binary -Student resnet20 -SbatchArgument '--partition=gpu', '--time=04:00:00'
    # ... later, when squeue no longer lists it:
    ./examples/slurm/merge.ps1 -SharedFolder /shared/kd/sweep1 -OutputPath sweep.csv
#>
param(
    [Parameter(Mandatory)] [string] $PlanPath,
    # Seen by every node at the same path: the ledger, checkpoints, row results and task logs go here.
    [Parameter(Mandatory)] [string] $SharedFolder,
    [Parameter(Mandatory)] [string] $TeacherPath,
    [string] $DatasetPath,
    # Get-KdDataset -Synthetic's parameters, instead of -DatasetPath.
    [hashtable] $Synthetic,
    [string] $Student = 'resnet8',
    [string] $ModulePath = 'KdTools',
    # How a node starts PowerShell 7.6 (an executable, and any leading arguments).
    [string[]] $PwshCommand = @('pwsh'),
    [int] $Threads = 1,
    [int] $BatchSize = 64,
    # More sbatch options (--partition, --time, --cpus-per-task, ...).
    [string[]] $SbatchArgument = @()
)
$ErrorActionPreference = 'Stop'
if (-not $DatasetPath -and -not $Synthetic) { throw 'give -DatasetPath (a dataset folder the nodes see) or -Synthetic @{ ... }' }
$shared = (New-Item -ItemType Directory -Force $SharedFolder).FullName
$null = New-Item -ItemType Directory -Force (Join-Path $shared 'rows'), (Join-Path $shared 'logs')
$plan = @(Import-Csv $PlanPath)
if ($plan.Count -eq 0) { throw "the plan '$PlanPath' has no rows" }
$plan | Export-Csv (Join-Path $shared 'plan.csv') -NoTypeInformation
Copy-Item (Join-Path $PSScriptRoot 'run-row.ps1') $shared -Force
@{
    Plan = Join-Path $shared 'plan.csv'; Ledger = Join-Path $shared 'sweep.csv'; Rows = Join-Path $shared 'rows'
    TeacherPath = (Resolve-Path $TeacherPath).Path; DatasetPath = $DatasetPath; Synthetic = $Synthetic; Student = $Student
    ModulePath = $ModulePath; Threads = $Threads; BatchSize = $BatchSize
} | ConvertTo-Json | Set-Content (Join-Path $shared 'sweep.json')

$quote = { param($s) "'" + $s.Replace("'", "'\''") + "'" }
$pwsh = ($PwshCommand | ForEach-Object { & $quote $_ }) -join ' '
$batch = Join-Path $shared 'sweep.sbatch'
Set-Content $batch @"
#!/bin/sh
# One plan row per array task: row = SLURM_ARRAY_TASK_ID + 1.
exec $pwsh -NoProfile -NonInteractive -File $(& $quote (Join-Path $shared 'run-row.ps1')) -SweepFile $(& $quote (Join-Path $shared 'sweep.json')) -Row "`$SLURM_ARRAY_TASK_ID"
"@
$arguments = @('--parsable', "--array=0-$($plan.Count - 1)", '--job-name=kd-sweep', '--ntasks=1', "--cpus-per-task=$Threads",
    "--output=$(Join-Path $shared 'logs' 'row-%a.out')") + $SbatchArgument + $batch
$job = & sbatch @arguments
if ($LASTEXITCODE) { throw "sbatch failed ($LASTEXITCODE): $job" }
Write-Verbose "submitted job ${job}: $($plan.Count) rows"
($job -split ';')[0]
