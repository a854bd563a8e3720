#Requires -Version 7.6
<#
.SYNOPSIS
    BYOT (Zhang et al., "Be Your Own Teacher"): self-distillation without a teacher. The student grows a shallow
    classifier after each stage but the last, which learns from the labels and from the network's own deepest
    classifier; the trained student keeps them as extra exits.
.DESCRIPTION
    Trains the student with BYOT and, for comparison, alone (CE), measures every exit of both (BYOT's student:
    final, branch1, branch2, ensemble) into one CSV, then saves the BYOT student and measures the checkpoint to show
    the branches survive the round trip.
#>
param(
    [string] $OutputPath = (Join-Path $PWD 'byot-results.csv'),
    [string] $CheckpointPath = (Join-Path $PWD 'byot-student.safetensors'),
    [string] $Student = 'resnet8',
    [int] $Classes = 10,
    [int] $TrainCount = 2000,
    [int] $TestCount = 500,
    [int] $ImageSize = 32,
    [int] $Epochs = 6,
    [int] $BatchSize = 64,
    [int] $Threads = 2
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1') }

$data = Get-KdDataset -Synthetic -Classes $Classes -TrainCount $TrainCount -TestCount $TestCount -ImageSize $ImageSize -Seed 1
$training = @{ Dataset = $data; Epochs = $Epochs; BatchSize = $BatchSize; Threads = $Threads }

# No -Teacher: BYOT's teacher is the student's own deepest classifier.
$byot = Invoke-Distillation -Method BYOT -Student $Student @training
$alone = Invoke-Distillation -Method CE -Student $Student @training
Write-Host "Run: $byot ($($byot.LossTerms))"
Write-Host "Run: $alone"

$rows = $byot, $alone | Measure-Student -Dataset $data
$rows | Export-Csv -Path $OutputPath -NoTypeInformation
Write-Host "Wrote $($rows.Count) rows to $OutputPath"

# The checkpoint keeps the branches: loading it gives the same exits with the same accuracy.
$byot | Save-KdModel -Path $CheckpointPath -Force
$reloaded = Measure-Student -Model $CheckpointPath -Dataset $data -NoTiming
$before = $rows | Where-Object Method -eq 'BYOT'
$same = ($reloaded.Exit -join ',') -eq ($before.Exit -join ',') -and ($reloaded.Top1 -join ',') -eq ($before.Top1 -join ',')
Write-Host "Saved to $CheckpointPath; reloaded exits $($reloaded.Exit -join ', '), same accuracy: $same"
$rows
