#Requires -Version 7.6
<#
.SYNOPSIS
    Ship a distilled student: distill, measure, export to ONNX, then predict with ONNX Runtime.
.DESCRIPTION
    Trains a teacher and distils a resnet8 student on the built-in synthetic dataset, measures the student in TorchSharp,
    exports it to ONNX (normalisation inside the graph, so it takes raw [0, 1] pixels), loads the file back into ONNX
    Runtime and measures and predicts with it there. Last, it runs the file with ONNX Runtime's own API, as any .NET
    program would, without KdTools. Swap Get-KdDataset -Synthetic for Get-KdDataset -Path <cifar-10-batches-bin> (and
    raise the epochs) for CIFAR.
#>
param(
    [string] $OutputFolder = (Join-Path $PWD 'deploy'),
    [int] $TeacherEpochs = 10,
    [int] $StudentEpochs = 10,
    [int] $ImageSize = 16
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module KdTools)) { Import-Module (Join-Path $PSScriptRoot '..' 'module' 'KdTools.psd1') }

$data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 512 -TestCount 128 -ImageSize $ImageSize -Seed 1
$teacher = New-Teacher -Architecture resnet20 -Dataset $data -Epochs $TeacherEpochs -Threads 2
$run = $teacher | Invoke-Distillation -Student resnet8 -Method KD -Dataset $data -Epochs $StudentEpochs -Threads 2
Write-Host "Distilled: $run"

# Export: the file carries the architecture, classes and their names, input size, mean/std, method and seed.
$onnxPath = Join-Path $OutputFolder 'student.onnx'
$run | Save-KdModel -Path $onnxPath -IncludeNormalization -ClassNames $data.Dataset.ClassNames -Force
Write-Host "Exported the student to $onnxPath ($((Get-Item $onnxPath).Length) bytes)"

# The same student in both runtimes: equal accuracy, each runtime's own latency.
$student = Import-KdModel -Path $onnxPath -Role Student
$measured = @($run, $student) | Measure-Student -Dataset $data -Teacher $teacher
$measured | Format-Table Model, Runtime, Top1, TeacherAgreement, Parameters, LatencyMs, ImagesPerSecond | Out-Host

# Predictions from ONNX Runtime, one row per test image.
$predictions = Get-KdPrediction -Model $student -Dataset $data
$predictions | Select-Object -First 5 | Format-Table Index, Class, Probability, Label | Out-Host

# The file in ONNX Runtime's own API, as a .NET service would run it (no KdTools): raw pixels in, logits out.
$session = [Microsoft.ML.OnnxRuntime.InferenceSession]::new($onnxPath)
try {
    $pixels = [float[]]::new(3 * $ImageSize * $ImageSize)   # one black image, [1, 3, H, W]
    $input = [Microsoft.ML.OnnxRuntime.Tensors.DenseTensor[float]]::new($pixels, [int[]] @(1, 3, $ImageSize, $ImageSize))
    $inputs = [Collections.Generic.List[Microsoft.ML.OnnxRuntime.NamedOnnxValue]]::new()
    $inputs.Add([Microsoft.ML.OnnxRuntime.NamedOnnxValue]::CreateFromTensor('input', $input))
    $results = $session.Run($inputs)
    try {
        $logits = @($results[0].AsEnumerable[float]())
        $names = $session.ModelMetadata.CustomMetadataMap['class_names'] | ConvertFrom-Json
        $best = [array]::IndexOf($logits, ($logits | Measure-Object -Maximum).Maximum)
        Write-Host "ONNX Runtime's own API: a black image is '$($names[$best])' (logits $($logits -join ', '))"
    }
    finally { $results.Dispose() }
}
finally { $session.Dispose() }

[pscustomobject]@{ OnnxPath = $onnxPath; Measurements = $measured; Predictions = $predictions }
