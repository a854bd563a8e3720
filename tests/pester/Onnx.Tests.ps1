# Acceptance (issue 19, deploying the student): a model goes out as an ONNX file and comes back run by ONNX Runtime,
# with the same accuracy and predictions as in TorchSharp, its latency measured in ONNX Runtime, and KdTools error ids for
# what an ONNX model cannot do and for damaged files. Then examples/deploy.ps1, small.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 96 -TestCount 48 -ImageSize 16 -Seed 5
    $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1 -Threads 2
    $onnxPath = Join-Path $TestDrive 'models' 'teacher.onnx'
    $teacher | Save-KdModel $onnxPath -ClassNames $data.Dataset.ClassNames
    $onnx = Import-KdModel $onnxPath
}

Describe 'A model exported to ONNX and imported back' {
    It 'is run by ONNX Runtime and says what it is' {
        $onnx.Runtime | Should -Be 'OnnxRuntime'
        $teacher.Runtime | Should -Be 'TorchSharp'
        $onnx.Architecture | Should -Be 'resnet8'
        $onnx.Classes | Should -Be 4
        $onnx.Parameters | Should -Be $teacher.Parameters
        $onnx.TrainedWith | Should -Be 'CE'
        $onnx.Path | Should -Be $onnxPath
    }

    It 'measures the same top-1 as TorchSharp, timed in ONNX Runtime' {
        $torch = $teacher | Measure-Student -Dataset $data -NoTiming
        $ort = $onnx | Measure-Student -Dataset $data -BatchSize 8
        $torch.Runtime | Should -Be 'TorchSharp'
        $ort.Runtime | Should -Be 'OnnxRuntime'
        $ort.Top1 | Should -Be $torch.Top1
        $ort.Top5 | Should -Be $torch.Top5
        [math]::Abs($ort.Loss - $torch.Loss) | Should -BeLessThan 1e-4
        $ort.LatencyMs | Should -BeGreaterThan 0
        $ort.ImagesPerSecond | Should -BeGreaterThan 0
    }

    It 'predicts what TorchSharp predicts' {
        $expected = Get-KdPrediction -Model $teacher -Dataset $data
        $actual = Get-KdPrediction -Model $onnx -Dataset $data
        $actual | Should -HaveCount 48
        $actual.ClassIndex | Should -Be $expected.ClassIndex
        for ($i = 0; $i -lt 48; $i++) { [math]::Abs($actual[$i].Probability - $expected[$i].Probability) | Should -BeLessThan 1e-4 }
    }

    It 'is measured straight from its path' {
        (Measure-Student $onnxPath -Dataset $data -NoTiming).Runtime | Should -Be 'OnnxRuntime'
    }
}

Describe 'Writing ONNX files' {
    It 'honours -WhatIf and refuses to overwrite without -Force' {
        $path = Join-Path $TestDrive 'whatif.onnx'
        $teacher | Save-KdModel $path -WhatIf
        Test-Path $path | Should -BeFalse
        $teacher | Save-KdModel $path -Format Onnx
        $teacher | Save-KdModel $path -ErrorVariable refused -ErrorAction SilentlyContinue
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Checkpoint.Exists*'
        $teacher | Save-KdModel $path -Force -IncludeNormalization
        (Import-KdModel $path | Measure-Student -Dataset $data -NoTiming).Top1 |
            Should -Be ($teacher | Measure-Student -Dataset $data -NoTiming).Top1
    }

    It 'rejects ONNX switches for a safetensors file' {
        $teacher | Save-KdModel (Join-Path $TestDrive 'x.safetensors') -IncludeNormalization -ErrorVariable wrong -ErrorAction SilentlyContinue
        $wrong[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Export.Unsupported*'
    }
}

Describe 'What an ONNX model cannot do' {
    It 'cannot teach' {
        { $onnx | Invoke-Distillation -Student resnet8 -Dataset $data -Epochs 1 } |
            Should -Throw -ErrorId 'KdTools.Model.InferenceOnly*'
    }

    It 'cannot be fine-tuned by dropping its classifier' {
        Import-KdModel $onnxPath -Classes 6 -SkipClassifier -ErrorVariable refused -ErrorAction SilentlyContinue
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Model.InferenceOnly*'
    }

    It 'reports a truncated file as KdTools.Checkpoint.Corrupt naming it' {
        $bytes = [IO.File]::ReadAllBytes($onnxPath)
        $truncated = Join-Path $TestDrive 'truncated.onnx'
        [IO.File]::WriteAllBytes($truncated, $bytes[0..($bytes.Length / 3)])
        Import-KdModel $truncated -ErrorVariable broken -ErrorAction SilentlyContinue
        $broken[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Checkpoint.Corrupt*'
        $broken[0].Exception.Message | Should -BeLike "*$truncated*"
    }
}

Describe 'examples/deploy.ps1' {
    It 'distils, measures, exports and predicts with ONNX Runtime' {
        $result = & (Join-Path $PSScriptRoot '..' '..' 'examples' 'deploy.ps1') -OutputFolder (Join-Path $TestDrive 'deploy') `
            -TeacherEpochs 1 -StudentEpochs 1 6>$null
        Test-Path $result.OnnxPath | Should -BeTrue
        $result.Measurements.Runtime | Should -Be 'TorchSharp', 'OnnxRuntime'
        $result.Measurements[1].Top1 | Should -Be $result.Measurements[0].Top1
        $result.Predictions | Should -HaveCount 128
    }
}
