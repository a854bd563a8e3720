#Requires -Version 7.6
<#
.SYNOPSIS
    The KdTools side of ./build.sh repro: trains the shared teacher once, or runs one student cell, and writes its JSON.
.DESCRIPTION
    -Teacher: New-Teacher on the class-balanced CIFAR-10 subset with the RepDistiller recipe, saved as a safetensors
    state dict with PyTorch's key names (what tools/repro/official_train.py loads into RepDistiller's model), plus
    teacher.json. Skipped when the file exists.
    Otherwise one cell: Import-KdModel of that teacher, then Invoke-Distillation of -Student with -Method and -Seed.
    -Part official: the RepDistiller recipe at -Epochs with the loss weights of the official side (RepDistiller's scripts,
    mdistiller's and DIST_KD's CIFAR configs: the values official_train.py and official_mdistiller.py use) and the
    two-stage methods' init stage at -InitEpochs (FitNet single-stage, as RepDistiller).
    -Part defaults: nothing but -Student -Method -Epochs (and -Seed, -Threads), the defaults a new user gets; DIH gets
    the teacher's heads from Add-IntermediateHead at its defaults first, as it needs them (official part: for -Epochs).
    A run that fails writes its JSON with the error (Top1 null) so the table shows it.
#>
param(
    [Parameter(Mandatory)] [string] $DataPath,
    [Parameter(Mandatory)] [int] $PerClass,
    [Parameter(Mandatory)] [string] $TeacherFile,
    [string] $TeacherArchitecture = 'resnet20',
    [int] $TeacherEpochs = 30,
    [switch] $Teacher,
    [string] $Student,
    [string] $Method,
    [int] $Seed = 1,
    [int] $Epochs,
    [int] $InitEpochs = 1,
    [ValidateSet('official', 'defaults')] [string] $Part = 'official',
    [string] $Commit = 'unknown',
    [int] $Threads = 2,
    [Parameter(Mandatory)] [string] $Out
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1')

$data = Get-KdDataset -Path $DataPath -TrainCount (10 * $PerClass)
$machine = '{0}, {1} cores, {2}' -f (hostname), [Environment]::ProcessorCount,
    ((Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Select-String '^model name' | Select-Object -First 1) -replace '^.*:\s*', '')

function Write-Result([hashtable] $result) {
    $result.commit = $Commit
    $result.date = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    $result.machine = $machine
    New-Item -ItemType Directory -Force (Split-Path $Out) | Out-Null
    $result | ConvertTo-Json | Set-Content -Path $Out
    Write-Host ($result | ConvertTo-Json -Compress)
}

if ($Teacher) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $model = New-Teacher -Architecture $TeacherArchitecture -Dataset $data -Epochs $TeacherEpochs -Recipe RepDistiller -Seed 1 -Threads $Threads
    $model | Save-KdModel -Path $TeacherFile -Force | Out-Null
    Write-Result @{
        method = 'teacher'; seed = 1; framework = 'KdTools'; student = $TeacherArchitecture; teacher = $null
        epochs = $TeacherEpochs; train_images = $data.TrainCount; test_images = $data.TestCount
        wall_seconds = [math]::Round($clock.Elapsed.TotalSeconds, 1); top1 = $model.Top1; settings = 'New-Teacher -Recipe RepDistiller -Seed 1'
        sha256 = (Get-FileHash -Algorithm SHA256 -Path $TeacherFile).Hash.ToLowerInvariant()
    }
    return
}

# The official side's loss weights, passed explicitly (the same values as official_train.py's METHODS and
# official_mdistiller.py's MDISTILLER/DIST). RepDistiller's scripts/run_cifar_distill.sh: the KD run is -r 0.1 -a 0.9,
# every other method -a 0 -b <β>; TAKD that KD twice through the assistant resnet14 (official_train.py's
# TAKD_ASSISTANT); KDSVD β 1 (mdistiller's CFG.KDSVD; the script has no KDSVD line). Pre-stages:
# RepDistiller's init stage (AB, FT, FSP) at -InitEpochs; FitNet has none there. AB and FSP: β 0, because RepDistiller's
# main loop (helper/loops.py) sets their term to 0 after the init stage, whatever -b says. mdistiller's CIFAR configs: DKD
# configs/cifar100/dkd/res56_res20.yaml (β 2), ReviewKD configs/cifar100/reviewkd.yaml (weight 5), OFD cfg.py's
# (0.001, teacher in train mode); their 20-of-240-epoch warm-ups scaled to the run, mdistiller's per-epoch factor.
# DIST: DIST_KD's configs/strategies/distill/dist_cifar.yaml (dist_t4: β 1, γ 1, τ 4; kd_loss_weight 2).
# DIH (the authors' code, tools/repro/official_dih.py): α 0.1, T 5, after the teacher's heads are trained below.
$official = @{
    CE = @{}; KD = @{ Alpha = 0.9; CeWeight = 0.1; Temperature = 4 }
    FitNet = @{ Beta = 100; HintEpochs = 0 }; AT = @{ Beta = 1000 }; SP = @{ Beta = 3000 }; CC = @{ Beta = 0.02 }
    VID = @{ Beta = 1 }; RKD = @{ Beta = 1 }; PKT = @{ Beta = 30000 }; NST = @{ Beta = 50 }; CRD = @{ Beta = 0.8 }
    AB = @{ Beta = 0; InitEpochs = $InitEpochs }; FT = @{ Beta = 200; ParaphraserEpochs = $InitEpochs }
    FSP = @{ Beta = 0; InitEpochs = $InitEpochs }
    KDSVD = @{ Beta = 1; K = 1; Layout = 'Channels' }
    # The KDSVD row against mdistiller's port, whose matrices are (C·H)×W: KdTools' KDSVD with Layout Width.
    'KDSVD-mdistiller' = @{ Beta = 1; K = 1; Layout = 'Width' }
    TAKD = @{ Alpha = 0.9; CeWeight = 0.1; Temperature = 4; Assistant = 'resnet14'; AssistantEpochs = $Epochs }
    DKD = @{ CeWeight = 1; Alpha = 1; Beta = 2; Temperature = 4; WarmupEpochs = 20; WarmupPerStep = $false }
    ReviewKD = @{ Beta = 5; WarmupEpochs = 20; WarmupPerStep = $false; MaxMidChannels = 512 }
    OFD = @{ Beta = 0.001; TeacherMode = 'Train' }
    DIST = @{ CeWeight = 1; DistWeight = 2; Beta = 1; Gamma = 1; Temperature = 4; WarmupEpochs = 0 }
    # DIH: the authors' README and final_test.py (--kd_alpha 0.1 --kd_temperature 5), every branch the same α.
    DIH = @{ Alpha = @(0.1); Temperature = 5 }
    # TOFD: distill.py's defaults (--t 3 ramped over 250 epochs, --alpha 0.05, --beta 0.03, KD weight 1); the teacher's
    # heads first on the frozen teacher for -Epochs at lr 0.1 (official_tofd.py trains them the same way).
    TOFD = @{ Temperature = 3; TemperatureRampEpochs = 250; KdWeight = 1; FeatureWeight = 0.05; OrthogonalWeight = 0.03; HeadEpochs = $Epochs; HeadLearningRate = 0.1 }
}
$teacherModel = Import-KdModel -Path $TeacherFile
# The wall time covers DIH's head stage too, as the official driver's does.
$clock = [Diagnostics.Stopwatch]::StartNew()
$headsText = ''
# A cell named <method>-<code> (KDSVD-mdistiller) runs KdTools' <method> with that code's settings.
$arguments = @{ Student = $Student; Method = ($Method -replace '-mdistiller$'); Dataset = $data; Epochs = $Epochs; Seed = $Seed; Threads = $Threads }
if ($Part -eq 'official') {
    if (-not $official.ContainsKey($Method)) { throw "kdtools_run.ps1: no official setting for method '$Method'" }
    $arguments.Recipe = 'RepDistiller'
    if ($official[$Method].Count) { $arguments.MethodOption = $official[$Method] }
}
$result = @{
    method = $Method; seed = $Seed; framework = 'KdTools'; student = $Student; teacher = $teacherModel.Architecture
    epochs = $Epochs; init_epochs = if ($Part -eq 'official' -and $Method -in 'AB', 'FT', 'FSP') { $InitEpochs } else { 0 }
    train_images = $data.TrainCount; test_images = $data.TestCount; teacher_top1 = $teacherModel.Top1
    part = $Part
}
try {
    if ($Method -eq 'DIH') {
        # DIH's first stage: a linear head on each residual stage of the frozen teacher, by Add-IntermediateHead with
        # DIH's head recipe (its default: SGD lr 0.1 Nesterov, x0.2 at 60/120/180 of 200 scaled, reflect-padded crop
        # and flip). Official part: for -Epochs, as tools/repro/official_dih.py runs the authors'
        # train_regular_middle_logits; defaults part: at its own default length, as a new user runs it.
        $headArguments = @{ Dataset = $data; Seed = $Seed; Threads = $Threads }
        if ($Part -eq 'official') { $headArguments.Epochs = $Epochs }
        $teacherModel = $teacherModel | Add-IntermediateHead @headArguments
        $headsText = "; heads by Add-IntermediateHead (DIH recipe$(if ($Part -eq 'official') { ", $Epochs epochs" }); test top-1 $($teacherModel.ExitTop1))"
    }
    $run = $teacherModel | Invoke-Distillation @arguments
    $result.top1 = $run.Top1
    $result.settings = "Recipe $($run.Recipe), lr $($run.LearningRate), schedule '$($run.Schedule)', batch $($run.BatchSize); options $($run.Options); pre-stages $($run.PreStages)$headsText; $Threads thread(s)"
    if ($run.Status -ne 'Completed') { $result.error = "status $($run.Status)" }
} catch {
    $result.top1 = $null
    $result.error = "$($_.FullyQualifiedErrorId): $($_.Exception.Message)"
}
$result.wall_seconds = [math]::Round($clock.Elapsed.TotalSeconds, 1)
Write-Result $result
