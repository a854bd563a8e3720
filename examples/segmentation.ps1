#Requires -Version 7.6
<#
.SYNOPSIS
    Structured knowledge distillation for semantic segmentation: one teacher, one student, four ways to train it.
.DESCRIPTION
    Trains a segmentation teacher (PSPNet on a dilated ResNet) on the built-in synthetic scenes, then trains the same
    small student four times: alone (CE), with SKD's pixel-wise term only (PixelKD), with channel-wise distillation
    (CWD, Shu et al.: each class channel's spatial distribution, τ 4, weight 3), and with full SKD (pixel-wise, pair-wise
    and the holistic critic, Liu et al.). Every student is measured on the test split (mean IoU, pixel accuracy,
    per-class IoU, agreement with the teacher per pixel) and written as one CSV row per method; a bar chart of their
    mean IoU, with the teacher's as a line across it, goes beside the CSV (-PlotPath).

    The students train with SKD's recipe (SGD lr 0.01, momentum 0.9, weight decay 1e-4, poly 0.9, random scale 0.5–2,
    crop and flip); the critic has its own SGD (lr 4e-4, poly 0.9). -CriticWidth narrows the critic (the reference's
    is 64) so the example stays quick on a CPU. The defaults take a few CPU-minutes; scale with -TrainCount/-Epochs.
.EXAMPLE
    ./segmentation.ps1 -OutputPath skd.csv
.EXAMPLE
    ./segmentation.ps1 -Teacher pspnet_resnet50_w16 -Student pspnet_resnet18_w16 -ImageSize 64 -Epochs 20

    A wider teacher than student, on larger scenes.
#>
param(
    [string] $OutputPath = (Join-Path $PWD 'segmentation-results.csv'),
    [string] $PlotPath = [IO.Path]::ChangeExtension($OutputPath, 'png'),
    [string[]] $Method = @('CE', 'PixelKD', 'CWD', 'SKD'),
    [Alias('Teacher')]
    [string] $TeacherArchitecture = 'pspnet_resnet18_w16',
    [string] $Student = 'pspnet_resnet18_w8',
    [int] $Classes = 4,
    [int] $TrainCount = 128,
    [int] $TestCount = 32,
    [int] $ImageSize = 32,
    [int] $TeacherEpochs = 8,
    [int] $Epochs = 4,
    [int] $BatchSize = 8,
    [double] $TeacherLearningRate = 0.05,
    [int] $CriticWidth = 16,
    [int] $Threads = 2,
    [long] $Seed = 1
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1') }

$data = Get-KdDataset -Synthetic -Task Segmentation -Classes $Classes -TrainCount $TrainCount -TestCount $TestCount -ImageSize $ImageSize -Seed $Seed
$common = @{ Dataset = $data; BatchSize = $BatchSize; Threads = $Threads; Seed = $Seed }
Write-Host "Dataset: $data"

$teacher = New-Teacher -Architecture $TeacherArchitecture -Epochs $TeacherEpochs -Recipe SKD -LearningRate $TeacherLearningRate @common
Write-Host "Teacher: $teacher"

# The holistic critic's width is SKD's option; the other methods take their defaults.
$methodOptions = @{ SKD = @{ CriticWidth = $CriticWidth } }
$runs = foreach ($name in $Method) {
    $run = $teacher | Invoke-Distillation -Student $Student -Method $name -MethodOption $methodOptions[$name] -Recipe SKD -Epochs $Epochs @common
    Write-Host "Run: $($run.Method), loss terms $($run.LossTerms)"
    $run
}

$rows = $runs | Measure-Student -Dataset $data -Teacher $teacher -NoTiming
$rows | Export-Csv -Path $OutputPath -NoTypeInformation
Write-Host "Wrote $(@($rows).Count) rows to $OutputPath"
@($teacher | Measure-Student -Dataset $data -NoTiming) + $rows | Export-KdPlot -Path $PlotPath -Kind Bar -Force
Write-Host "Plotted mean IoU per method to $PlotPath"
$rows
