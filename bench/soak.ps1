<#
.SYNOPSIS
    Memory soak: many training runs, then many timed measurements, in one PowerShell session (one process), printing
    the process's working set and TorchSharp's live tensor count every -Every iterations. ./build.sh bench --soak runs
    it; bench/README.md says what it measured. It asserts nothing: a leak shows as a count or a working set that keeps
    climbing after warm-up.
.PARAMETER Runs
    Invoke-Distillation runs (KD, resnet8 from a resnet8 teacher, one epoch of a small synthetic set).
.PARAMETER Measurements
    Measure-Student calls with timing (latency and throughput) on the last run's student.
#>
param(
    [int] $Runs = 200,
    [int] $Measurements = 500,
    [int] $Every = 20,
    [int] $Threads = 2
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1')

$process = [System.Diagnostics.Process]::GetCurrentProcess()
$started = [System.Diagnostics.Stopwatch]::StartNew()

function Write-Sample([string] $Phase, [int] $Done) {
    # Collect first, so the numbers show what is still referenced, not garbage that a later collection would free.
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $process.Refresh()
    [ordered]@{
        soak = $Phase
        done = $Done
        working_set_mb = [math]::Round($process.WorkingSet64 / 1MB, 1)
        managed_mb = [math]::Round([GC]::GetTotalMemory($false) / 1MB, 1)
        live_tensors = $liveTensors.GetValue($null)
        seconds = [math]::Round($started.Elapsed.TotalSeconds)
    } | ConvertTo-Json -Compress
}

$data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 64 -TestCount 32 -ImageSize 16 -Seed 1
# TorchSharp is loaded by then, in the module's load context: find its Tensor type by assembly, not by name.
$torchSharp = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'TorchSharp' } | Select-Object -First 1
$liveTensors = $torchSharp.GetType('TorchSharp.torch+Tensor').GetProperty('TotalCount')
$common = @{ Dataset = $data; Epochs = 1; BatchSize = 32; Threads = $Threads }
$teacher = New-Teacher resnet8 @common
Write-Sample 'start' 0

$run = $null
for ($i = 1; $i -le $Runs; $i++) {
    $run = $teacher | Invoke-Distillation -Student resnet8 -Method KD -Seed $i @common
    if ($i % $Every -eq 0) { Write-Sample 'runs' $i }
}
$student = if ($run) { $run.StudentModel } else { $teacher }
for ($i = 1; $i -le $Measurements; $i++) {
    $null = $student | Measure-Student -Dataset $data -BatchSize 32
    if ($i % $Every -eq 0) { Write-Sample 'measurements' $i }
}
