#Requires -Version 7.6
<#
.SYNOPSIS
    A sweep's runs side by side: ForEach-Object -Parallel on one machine; the same rows across machines with
    Invoke-Command over SSH.
.DESCRIPTION
    Trains one teacher, then runs one distillation per row of a plan (by default every -Method with every -Seed) with
    ForEach-Object -Parallel, -ThrottleLimit runs at a time, and writes the runs to a CSV in plan order. Every run owns
    its random generators (shuffling, augmentation, every draw of a step), so each row gives bit-identical results
    whether the rows run in parallel or one after another (-Sequential runs the same rows in this runspace, to
    compare).

    Threads: libtorch's intra-op thread count is one per process, not one per run. Give every parallel run the same
    -Threads (a different count can change results in the last bits), and keep ThrottleLimit x Threads at or below the
    machine's cores: more threads than cores spin and wait for each other (on 2 cores, two runs of 2 threads each ran
    up to 10 times slower than two runs of 1 thread). The defaults, one thread per run and one run per core, fill the
    machine without oversubscribing it.

    Each parallel runspace imports the module itself; the teacher and the dataset are shared, not copied ($using:
    passes references between the runspaces of one process, and a teacher only ever runs forward). Memory grows with
    the runs in flight: each holds its student, optimizer state and a batch's activations.

    ACROSS MACHINES: examples/remote-sweep.ps1 splits a plan over SSH hosts (PowerShell remoting), and
    examples/slurm/ submits it to a Slurm cluster as a job array; both keep a ledger (Invoke-Distillation -ResultPath)
    so a sweep that dies halfway finishes when run again. Their tests start a real sshd and a single-node Slurm
    cluster on this machine (tests/pester/RemoteSweep.Tests.ps1, SlurmSweep.Tests.ps1).
.EXAMPLE
    ./parallel-sweep.ps1 -Method KD, DKD, CE -Seed 1, 2, 3 -OutputPath seeds.csv

    Nine runs, as many at a time as the machine has cores, one thread each.
.EXAMPLE
    ./parallel-sweep.ps1 -Sequential

    The same rows one after another in this runspace (libtorch's threads are then all this run's), to compare.
#>
param(
    [string] $OutputPath = (Join-Path $PWD 'parallel-sweep.csv'),
    [string[]] $Method = @('KD', 'CE'),
    [long[]] $Seed = @(1, 2),
    [Alias('Teacher')]
    [string] $TeacherArchitecture = 'resnet14',
    [string] $Student = 'resnet8',
    [int] $Classes = 10,
    [int] $TrainCount = 2000,
    [int] $TestCount = 500,
    [int] $ImageSize = 32,
    [int] $TeacherEpochs = 6,
    [int] $Epochs = 6,
    [int] $BatchSize = 64,
    # Runs at a time.
    [int] $ThrottleLimit = [Environment]::ProcessorCount,
    # libtorch's intra-op threads, process-wide: the same for every run; ThrottleLimit x Threads <= cores.
    [int] $Threads = 1,
    # Run the rows one after another in this runspace instead.
    [switch] $Sequential
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1'
if (-not (Get-Module KdTools)) { Import-Module $manifest }

$data = Get-KdDataset -Synthetic -Classes $Classes -TrainCount $TrainCount -TestCount $TestCount -ImageSize $ImageSize -Seed 1
$training = @{ Dataset = $data; BatchSize = $BatchSize; Threads = $Threads }
$teacher = New-Teacher -Architecture $TeacherArchitecture -Epochs $TeacherEpochs -Seed 1 @training
Write-Host "Teacher: $teacher"

# The plan: one row per run, with the columns Invoke-Distillation binds by name (a CSV plan would do the same).
$plan = foreach ($m in $Method) { foreach ($s in $Seed) { [pscustomobject]@{ Method = $m; Seed = $s; Epochs = $Epochs } } }
$clock = [Diagnostics.Stopwatch]::StartNew()
$runs = if ($Sequential) {
    $plan | Invoke-Distillation -Teacher $teacher -Student $Student @training
}
else {
    $plan | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
        # A runspace starts without the module; importing it again in the same process is cheap.
        Import-Module $using:manifest
        $_ | Invoke-Distillation -Teacher $using:teacher -Student $using:Student -Dataset $using:data `
            -BatchSize $using:BatchSize -Threads $using:Threads
    }
}
# Parallel runs finish in any order: back to the plan's.
$position = @{}
for ($i = 0; $i -lt @($plan).Count; $i++) { $position["$($plan[$i].Method)/$($plan[$i].Seed)"] = $i }
$runs = $runs | Sort-Object { $position["$($_.Method)/$($_.Seed)"] }
$mode = if ($Sequential) { 'sequentially' } else { "in parallel ($ThrottleLimit at a time, $Threads thread(s) each)" }
Write-Host ("{0} runs {1} in {2:N1} s" -f @($runs).Count, $mode, $clock.Elapsed.TotalSeconds)
$runs | Export-Csv -Path $OutputPath -NoTypeInformation
$runs
