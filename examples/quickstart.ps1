#Requires -Version 7.6
<#
.SYNOPSIS
    KdTools in one page: train a teacher, distill a student with KD, compare with the student trained alone,
    measure all three, write one CSV and plot the two students' learning curves.
.DESCRIPTION
    Runs on the built-in synthetic dataset (16x16 images so it finishes in about a minute and a half on 2 CPU cores). Swap
    Get-KdDataset -Synthetic for Get-KdDataset -Path <cifar-10-batches-bin> (and raise the epochs) for CIFAR.
#>
param(
    [string] $OutputPath = (Join-Path $PWD 'quickstart-results.csv'),
    # Test top-1 and training loss per epoch of both students; beside the CSV unless given.
    [string] $PlotPath = [IO.Path]::ChangeExtension($OutputPath, 'png'),
    [int] $TeacherEpochs = 30,
    [int] $StudentEpochs = 20,
    [int] $ImageSize = 16
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1') }

$data = Get-KdDataset -Synthetic -Classes 10 -TrainCount 2000 -TestCount 500 -ImageSize $ImageSize -Seed 1
Write-Host "Dataset: $data"

$teacher = New-Teacher -Architecture resnet20 -Dataset $data -Epochs $TeacherEpochs -Threads 2
Write-Host "Teacher: $teacher"

# The same student architecture twice: distilled from the teacher (KD) and trained alone (CE), same seed.
$runs = 'KD', 'CE' | ForEach-Object {
    $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs $StudentEpochs -Threads 2
}
$runs | ForEach-Object { Write-Host "Run: $_" }
$runs | Export-KdPlot -Path $PlotPath -Force
Write-Host "Plotted the learning curves to $PlotPath"

$results = @($teacher) + $runs | Measure-Student -Dataset $data -Teacher $teacher
# The module's table view fits 80 columns; every column is in the CSV.
$results | Format-Table
$results | Export-Csv -Path $OutputPath -NoTypeInformation
Write-Host "Wrote $($results.Count) rows to $OutputPath"
