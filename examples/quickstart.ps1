#Requires -Version 7.6
<#
.SYNOPSIS
    KdTools in one page: train a teacher, distill students with KD, compare them with the same students trained alone,
    over several seeds, and print the margin with its uncertainty. Writes one CSV and a plot under artifacts/quickstart.
.DESCRIPTION
    The setting is the one where distillation pays most: the teacher learns from plenty of labelled images, the students
    from few (-LabelledCount, 500 by default: 50 per class) and are tested on a large held-out split (2,000 images). Each seed trains
    one KD student and one CE student (the same network, data order and initialisation); the margin is the mean of the
    per-seed differences KD − CE, with its standard error over the seeds.

    Left out, -Path uses the built-in synthetic dataset at 16x16 pixels: a teacher and 6 seeds x 2 students, about two
    minutes on 2 CPU cores.
    -Path <CIFAR-10 folder> (for example from Save-KdDataset CIFAR10 ./data) runs the same comparison on real CIFAR-10:
    the teacher on all 50,000 training images, the students on the first -LabelledCount of them, all tested on the
    10,000 test images; see the README for its epochs, time and accuracies.
#>
param(
    # A CIFAR-10 folder (cifar-10-batches-bin or its parent); left out: the built-in synthetic dataset.
    [string] $Path,
    [string] $OutputPath = (Join-Path $PWD 'artifacts' 'quickstart' 'quickstart-results.csv'),
    # Test top-1 and training loss per epoch of the first seed's two students; beside the CSV unless given.
    [string] $PlotPath = [IO.Path]::ChangeExtension($OutputPath, 'png'),
    # Labelled training images the students learn from (the teacher learns from the whole training split).
    [int] $LabelledCount = $(if ($Path) { 1000 } else { 500 }),
    [int[]] $Seeds = (1..6),
    # On real CIFAR-10 (50,000 images, 782 steps an epoch) 10 epochs keep the teacher's training within 2 cores' reach.
    [int] $TeacherEpochs = $(if ($Path) { 10 } else { 30 }),
    [int] $StudentEpochs = 20,
    # The students' batch: 16 steps per epoch on 500 images.
    [int] $BatchSize = 32,
    [int] $Threads = 2
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1') }

if ($Path) {
    $data = Get-KdDataset -Path $Path
    $labelled = Get-KdDataset -Path $Path -TrainCount $LabelledCount
} else {
    # One seed, so both datasets draw the same classes and the same 2,000 test images; only the training split differs.
    $data = Get-KdDataset -Synthetic -Classes 10 -TrainCount 2000 -TestCount 2000 -ImageSize 16 -Seed 1
    $labelled = Get-KdDataset -Synthetic -Classes 10 -TrainCount $LabelledCount -TestCount 2000 -ImageSize 16 -Seed 1
}
Write-Host "Teacher's data:  $data"
Write-Host "Students' data:  $labelled"

$teacher = New-Teacher -Architecture resnet20 -Dataset $data -Epochs $TeacherEpochs -Threads $Threads
Write-Host "Teacher: $teacher"

# Per seed, the same student architecture twice: distilled from the teacher (KD) and trained alone (CE).
$runs = foreach ($seed in $Seeds) {
    foreach ($method in 'KD', 'CE') {
        $teacher | Invoke-Distillation -Student resnet8 -Method $method -Dataset $labelled -Epochs $StudentEpochs -BatchSize $BatchSize -Seed $seed -Threads $Threads
    }
}
$runs | ForEach-Object { Write-Host "Run: $_" }
$runs | Where-Object Seed -eq $Seeds[0] | Export-KdPlot -Path $PlotPath -Force
Write-Host "Plotted the first seed's learning curves to $PlotPath"

$results = @($teacher) + $runs | Measure-Student -Dataset $labelled -Teacher $teacher -NoTiming
# The module's table view fits 80 columns; every column is in the CSV.
$results | Format-Table
New-Item -ItemType Directory -Force (Split-Path $OutputPath) | Out-Null
$results | Export-Csv -Path $OutputPath -NoTypeInformation
Write-Host "Wrote $($results.Count) rows to $OutputPath"

# The claim and its noise: test top-1 per student (mean ± sd over seeds), and the paired margin KD − CE with its
# standard error (sd of the per-seed differences / √seeds).
function Get-Summary([double[]] $values) {
    $mean = ($values | Measure-Object -Average).Average
    $sd = if ($values.Count -gt 1) { [math]::Sqrt(($values | ForEach-Object { ($_ - $mean) * ($_ - $mean) } | Measure-Object -Sum).Sum / ($values.Count - 1)) } else { [double]::NaN }
    [pscustomobject]@{ Mean = 100 * $mean; Sd = 100 * $sd; Se = 100 * $sd / [math]::Sqrt($values.Count) }
}
$kd = $runs | Where-Object Method -eq KD | Sort-Object Seed
$ce = $runs | Where-Object Method -eq CE | Sort-Object Seed
$kdTop1 = Get-Summary $kd.Top1
$ceTop1 = Get-Summary $ce.Top1
$margin = Get-Summary (0..($kd.Count - 1) | ForEach-Object { $kd[$_].Top1 - $ce[$_].Top1 })
Write-Host ('Teacher     {0,5:F1} %' -f (100 * $teacher.Top1))
Write-Host ('KD student  {0,5:F1} ± {1:F1} %  (mean ± sd over {2} seeds, {3} labelled images)' -f $kdTop1.Mean, $kdTop1.Sd, $Seeds.Count, $LabelledCount)
Write-Host ('CE student  {0,5:F1} ± {1:F1} %' -f $ceTop1.Mean, $ceTop1.Sd)
Write-Host ('KD − CE     {0:+0.0;-0.0} ± {1:F1} points (± standard error; {2:F1} standard errors from zero)' -f $margin.Mean, $margin.Se, ($margin.Mean / $margin.Se))
