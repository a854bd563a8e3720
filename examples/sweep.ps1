#Requires -Version 7.6
<#
.SYNOPSIS
    One teacher, every distillation method, the same student: one CSV row per method, same columns for all.
.DESCRIPTION
    Trains a teacher once, then distills it into the same student architecture with each method that needs a
    teacher and classifies (Get-KdMethod: NeedsTeacher, Tasks) plus the CE baseline (the student trained alone), measures
    every student on the test split and writes one row per method. The measurement rows are also the script's output.
    A bar chart of every method's top-1, with the teacher's as a line across it, goes beside the CSV (-PlotPath).

    Methods with a stage before the main training get it shortened to -PreStageEpochs (FitNet's hint stage, FT's
    paraphraser, AB's and FSP's initialisation, DIH's head fine-tuning); TAKD's assistant is -Assistant. The defaults run on
    the built-in synthetic dataset at the quickstart's sizes, so a full sweep takes roughly ten quickstarts; scale with
    -TrainCount/-Epochs, or pass -Method KD, AT, CE to sweep a few. Methods that need features the student and teacher
    do not share (equal stage counts or widths) are skipped with a warning.
.EXAMPLE
    ./sweep.ps1 -Method KD, FitNet, CE -Epochs 20 -OutputPath kd-vs-fitnet.csv
.EXAMPLE
    ./sweep.ps1 -Student ShuffleV1 -Teacher resnet32x4 -Assistant resnet8x4

    A heterogeneous pair of the CIFAR benchmark. The methods that cannot pair these stages are skipped with a warning:
    AB (its 1x1 connectors compare maps element by element) and FSP and KDSVD (they need equal widths). FT's default,
    RepDistiller's variant pools the larger factor map and runs.
#>
param(
    [string] $OutputPath = (Join-Path $PWD 'sweep-results.csv'),
    [string] $PlotPath = [IO.Path]::ChangeExtension($OutputPath, 'png'),
    # Default: every method that needs a teacher, then CE.
    [string[]] $Method,
    [Alias('Teacher')]
    [string] $TeacherArchitecture = 'resnet20',
    [string] $Student = 'resnet8',
    # TAKD's teacher assistant, between teacher and student in size.
    [string] $Assistant = 'resnet14',
    [int] $Classes = 10,
    [int] $TrainCount = 2000,
    [int] $TestCount = 500,
    [int] $ImageSize = 32,
    [int] $TeacherEpochs = 6,
    [int] $Epochs = 6,
    [int] $PreStageEpochs = 2,
    [int] $BatchSize = 64,
    # The students' learning rate (the teacher trains at the default). Default: 0.05, and 0.01 for a MobileNet or
    # ShuffleNet student, as in RepDistiller's recipe (Get-KdRecipe RepDistiller).
    [double] $LearningRate,
    [int] $Threads = 2,
    [long] $Seed = 1
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1') }

if (-not $Method) { $Method = @((Get-KdMethod | Where-Object { $_.NeedsTeacher -and $_.Tasks -match 'Classification' }).Name) + 'CE' }

# Options that shorten a method's pre-stage (the papers' 30 epochs would dwarf a short sweep) or pick TAKD's assistant.
$methodOptions = @{
    FitNet = @{ HintEpochs = $PreStageEpochs }
    FT     = @{ ParaphraserEpochs = $PreStageEpochs }
    AB     = @{ InitEpochs = $PreStageEpochs }
    FSP    = @{ InitEpochs = $PreStageEpochs }
    TAKD   = @{ Assistant = $Assistant }
}

if (-not $PSBoundParameters.ContainsKey('LearningRate')) {
    $recipe = Get-KdRecipe RepDistiller
    $LearningRate = if ((Get-KdArchitecture $Student).Lightweight) { $recipe.LightweightLearningRate } else { $recipe.LearningRate }
}

$data = Get-KdDataset -Synthetic -Classes $Classes -TrainCount $TrainCount -TestCount $TestCount -ImageSize $ImageSize -Seed $Seed
$training = @{ Dataset = $data; BatchSize = $BatchSize; Threads = $Threads; Seed = $Seed }
Write-Host "Dataset: $data"

$teacher = New-Teacher -Architecture $TeacherArchitecture -Epochs $TeacherEpochs @training
Write-Host "Teacher: $teacher"
# DIH distills from the teacher's intermediate heads too; the heads are trained on the frozen teacher only when needed.
$headed = if ($Method -contains 'DIH') { $teacher | Add-IntermediateHead -Epochs $PreStageEpochs @training }

$runs = foreach ($name in $Method) {
    $from = if ($name -eq 'DIH') { $headed } else { $teacher }
    try {
        # One run per method; TAKD's assistant run is inside it ($run.EarlierRuns).
        $run = $from | Invoke-Distillation -Student $Student -Method $name -MethodOption $methodOptions[$name] -Epochs $Epochs -LearningRate $LearningRate @training
    }
    catch {
        # A method that needs features this pair does not share (equal stage counts, equal widths) says so before
        # training; a sweep over a heterogeneous pair goes on without it.
        if ($_.FullyQualifiedErrorId -notmatch '^KdTools\.Model\.Feature(Missing|ShapeMismatch)') { throw }
        Write-Warning "Skipped $name for $Student from ${TeacherArchitecture}: $($_.Exception.Message)"
        continue
    }
    Write-Host "Run: $run"
    $run
}

# Every row has the same student architecture, so timing would repeat one number; self-distilled students (BYOT)
# would add a row per branch: the sweep compares final classifiers.
$rows = $runs | Measure-Student -Dataset $data -Teacher $teacher -NoTiming | Where-Object Exit -eq 'final'
$rows | Export-Csv -Path $OutputPath -NoTypeInformation
Write-Host "Wrote $(@($rows).Count) rows to $OutputPath"
@($teacher | Measure-Student -Dataset $data -NoTiming) + $rows | Export-KdPlot -Path $PlotPath -Kind Bar -Force
Write-Host "Plotted top-1 per method to $PlotPath"
$rows
