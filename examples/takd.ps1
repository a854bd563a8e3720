#Requires -Version 7.6
<#
.SYNOPSIS
    Teacher-assistant KD (Mirzadeh et al. 2020) two ways: as a pipeline, where a large teacher teaches a mid-sized
    assistant, which then teaches the small student (piping a run into the next Invoke-Distillation makes its student
    the next teacher, and changes nothing else), and as one run of the TAKD method, which does the same inside and
    keeps the assistant's run in $run.EarlierRuns.
#>
param(
    [string] $OutputPath = (Join-Path $PWD 'takd-results.csv'),
    [int] $Epochs = 6
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1') }

$data = Get-KdDataset -Synthetic -Classes 10 -Seed 1
$teacher = New-Teacher -Architecture resnet32 -Dataset $data -Epochs $Epochs

$viaAssistant = $teacher |
    Invoke-Distillation -Student resnet14 -Method KD -Dataset $data -Epochs $Epochs |   # teacher → assistant
    Invoke-Distillation -Student resnet8 -Method KD -Dataset $data -Epochs $Epochs      # assistant → student
$takd = $teacher | Invoke-Distillation -Student resnet8 -Method TAKD -MethodOption @{ Assistant = 'resnet14' } -Dataset $data -Epochs $Epochs
$direct = $teacher | Invoke-Distillation -Student resnet8 -Method KD -Dataset $data -Epochs $Epochs

$rows = $viaAssistant, $takd, $direct | Measure-Student -Dataset $data -Teacher $teacher
$rows | Format-Table Model, Teacher, Method, Top1, TeacherAgreement
$rows | Export-Csv -Path $OutputPath -NoTypeInformation
