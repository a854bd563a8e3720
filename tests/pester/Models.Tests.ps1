# Acceptance (issue 9, models in and out): a user brings weights trained in PyTorch into KdTools, classifies images
# with them, measures several models at once, and gets KdTools error ids for every mistake, including the ones
# PowerShell's parameter binding used to hide. The PyTorch files come from tests/pester/pytorch_state_dicts.py, run
# with Debian's PyTorch (/usr/bin/python3): it writes them as safetensors.torch.save_file does and records PyTorch's
# own predictions for the images it draws.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $files = Join-Path $TestDrive 'pytorch'
    & /usr/bin/python3 (Join-Path $PSScriptRoot 'pytorch_state_dicts.py') $files
    if ($LASTEXITCODE -ne 0) { throw "pytorch_state_dicts.py failed ($LASTEXITCODE)" }
    $expected = Get-Content (Join-Path $files 'expected.json') -Raw | ConvertFrom-Json
    $normalization = @{ Mean = [float[]] $expected.mean; Std = [float[]] $expected.std }
    $images = Join-Path $files 'images'
    $data = Get-KdDataset -Synthetic -Classes 5 -TrainCount 64 -TestCount 40 -ImageSize 16 -Seed 3
}

Describe 'Importing a state dict that PyTorch wrote' {
    It 'loads float32 weights and predicts what PyTorch predicts' {
        $model = Import-KdModel -Path (Join-Path $files 'resnet8_f32.safetensors') -Architecture resnet8 -Classes 5 @normalization
        $model.Architecture | Should -Be 'resnet8'
        $model.Classes | Should -Be 5
        $model.Role | Should -Be 'Teacher'

        $predictions = Get-KdPrediction -Model $model -Path $images -ImageSize 16 -Top 5
        $predictions | Should -HaveCount 4
        foreach ($row in $predictions) {
            $reference = $expected.images.((Split-Path -Leaf $row.Path))
            $row.ClassIndex | Should -Be $reference.classes[0]
            $row.Probability | Should -BeGreaterThan ($reference.probabilities[0] - 1e-4)
            $row.Probability | Should -BeLessThan ($reference.probabilities[0] + 1e-4)
            $top = $row.Top -split ';' | ForEach-Object { , ($_ -split '=') }
            ($top | ForEach-Object { [int] $_[0] }) -join ',' | Should -Be ($reference.classes -join ',')
            for ($k = 0; $k -lt 5; $k++) {
                [double] $top[$k][1] | Should -BeGreaterThan ($reference.probabilities[$k] - 1e-4)
                [double] $top[$k][1] | Should -BeLessThan ($reference.probabilities[$k] + 1e-4)
            }
        }
    }

    It 'loads float64 weights saved without BatchNorm counters to the same predictions' {
        $f32 = Import-KdModel (Join-Path $files 'resnet8_f32.safetensors') -Architecture resnet8 -Classes 5 @normalization
        $f64 = Import-KdModel (Join-Path $files 'resnet8_f64.safetensors') -Architecture resnet8 -Classes 5 @normalization -Verbose 4>&1 |
            Tee-Object -Variable log | Where-Object { $_ -is [KdTools.KdModel] }
        ($log | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message |
            Should -Contain 'The file has no BatchNorm num_batches_tracked counters (9); they stay 0, as in PyTorch.'
        $a = Get-KdPrediction -Model $f32 -Path $images -ImageSize 16
        $b = Get-KdPrediction -Model $f64 -Path $images -ImageSize 16
        $b.ClassIndex | Should -Be $a.ClassIndex
        for ($i = 0; $i -lt 4; $i++) { [math]::Abs($a[$i].Probability - $b[$i].Probability) | Should -BeLessThan 1e-5 }
    }

    It 'takes the backbone of a 10-class network for 5 classes and says which keys it skipped' {
        $log = Import-KdModel (Join-Path $files 'resnet8_10classes.safetensors') -Architecture resnet8 -Classes 5 -SkipClassifier -Verbose 4>&1
        $model = $log | Where-Object { $_ -is [KdTools.KdModel] }
        $model.Classes | Should -Be 5
        ($log | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message |
            Should -Contain 'Skipped 2 entries of the file: fc.weight [10, 64], fc.bias [10].'
    }

    It 'lists every missing, unexpected and mis-shaped key in one error' {
        { Import-KdModel (Join-Path $files 'resnet8_broken.safetensors') -Architecture resnet8 -Classes 5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.Mismatch,*' -ExpectedMessage '*missing: fc.weight, layer2.0.bn1.running_var; unexpected: linear.weight; wrong shape: conv1.weight (checkpoint `[8, 3, 3, 3`], model `[16, 3, 3, 3`])*'
    }

    It 'needs the architecture and class count of a plain state dict' {
        $failure = { Import-KdModel (Join-Path $files 'resnet8_f32.safetensors') -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.ArchitectureRequired,*' -PassThru
        $failure.ErrorDetails.Message | Should -BeLike '*does not say which network it holds*Import-KdModel -Architecture <name> -Classes <count>'
    }

    It 'refuses the wrong class count or architecture' {
        { Import-KdModel (Join-Path $files 'resnet8_f32.safetensors') -Architecture resnet8 -Classes 10 -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.Mismatch,*' -ExpectedMessage '*wrong shape: fc.weight*'
        { Import-KdModel (Join-Path $files 'resnet8_f32.safetensors') -Architecture resnet88 -Classes 5 } |
            Should -Throw -ErrorId 'KdTools.Architecture.Unknown,*'
    }

    It 'loads the files it can and reports the ones it cannot' {
        $paths = (Join-Path $files 'resnet8_f32.safetensors'), (Join-Path $files 'resnet8_broken.safetensors'),
            (Join-Path $files 'missing.safetensors'), (Join-Path $files 'resnet8_f64.safetensors')
        $models = $paths | Import-KdModel -Architecture resnet8 -Classes 5 -ErrorAction SilentlyContinue -ErrorVariable failures
        $models | Should -HaveCount 2
        $failures.FullyQualifiedErrorId | Should -Be 'KdTools.Checkpoint.Mismatch,KdTools.Cmdlets.Commands.ImportKdModelCommand',
            'KdTools.Checkpoint.NotFound,KdTools.Cmdlets.Commands.ImportKdModelCommand'
    }
}

Describe 'KdTools checkpoints' {
    BeforeAll {
        $teacher = New-Teacher -Architecture resnet8 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
        $saved = Join-Path $TestDrive 'teacher.safetensors'
        $teacher | Save-KdModel -Path $saved
    }

    It 'round-trip through Save-KdModel and Import-KdModel, which needs no architecture' {
        $loaded = Import-KdModel $saved -Role Student
        $loaded.Role | Should -Be 'Student'
        $loaded.TrainedWith | Should -Be 'CE'
        $loaded.Top1 | Should -Be $teacher.Top1
        $a = $teacher | Measure-Student -Dataset $data -NoTiming
        $b = $loaded | Measure-Student -Dataset $data -NoTiming
        $b.Top1 | Should -Be $a.Top1
        $b.Loss | Should -Be $a.Loss
    }

    It 'load in PyTorch as a plain state dict: load_file''s tensors go into the reference network with a strict load_state_dict' {
        $fromPyTorch = & /usr/bin/python3 (Join-Path $PSScriptRoot 'pytorch_state_dicts.py') --read $saved $images | ConvertFrom-Json
        $LASTEXITCODE | Should -Be 0
        $ours = Get-KdPrediction -Model $teacher -Path $images -ImageSize 16
        $ours | Should -HaveCount 4
        foreach ($row in $ours) {
            $reference = $fromPyTorch.((Split-Path -Leaf $row.Path))
            $row.ClassIndex | Should -Be $reference.class
            [math]::Abs($row.Probability - $reference.probability) | Should -BeLessThan 1e-4
        }
    }

    It 'still load with New-Teacher -Path' {
        (New-Teacher -Path $saved).Architecture | Should -Be 'resnet8'
    }

    It 'are imported from Get-ChildItem output' {
        (Get-ChildItem $TestDrive -Filter 'teacher.safetensors' | Import-KdModel).Architecture | Should -Be 'resnet8'
    }

    It 'classify a dataset''s test split with true labels, normalised with the model''s own statistics' {
        $rows = Get-KdPrediction -Model $teacher -Dataset $data -Top 3
        $rows | Should -HaveCount 40
        $rows[0].Index | Should -Be 0
        $rows[39].Index | Should -Be 39
        ($rows | Where-Object { $_.Class -eq $_.Label }).Count / 40 | Should -Be ($teacher | Measure-Student -Dataset $data -NoTiming).Top1
        $rows[0].Top | Should -Match '^\d=[0-9.]+;\d=[0-9.]+;\d=[0-9.]+$'
    }

    It 'save failures name the target and carry a checkpoint error id' {
        $blocker = Join-Path $TestDrive 'blocker'
        Set-Content $blocker 'a file, not a folder'
        $target = Join-Path $blocker 'teacher.safetensors'
        { $teacher | Save-KdModel -Path $target -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.WriteFailed,*' -ExpectedMessage "*'$target'*is a file, not a folder*"
        $teacher | Save-KdModel -Path $target -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].CategoryInfo.Category | Should -Be 'WriteError'
        $failed[0].Exception.Message | Should -Not -BeLike '*.tmp*'
        # sysfs refuses new files to everyone, root included.
        $teacher | Save-KdModel -Path /sys/teacher.safetensors -ErrorAction SilentlyContinue -ErrorVariable denied
        $denied[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Checkpoint.WriteFailed,*'
        $denied[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $denied[0].Exception.Message | Should -BeLike "*'/sys/teacher.safetensors'*"
    }
}

Describe 'Predictions for a folder of images' {
    BeforeAll {
        $model = Import-KdModel (Join-Path $files 'resnet8_f32.safetensors') -Architecture resnet8 -Classes 5 @normalization
    }

    It 'write one CSV row per image with the class names given' {
        $csv = Join-Path $TestDrive 'predictions.csv'
        Get-KdPrediction -Model $model -Path $images -ImageSize 16 -ClassName a, b, c, d, e -Top 2 | Export-Csv $csv
        $rows = Import-Csv $csv
        $rows | Should -HaveCount 4
        ($rows[0].PSObject.Properties.Name -join ',') | Should -Be 'Path,Index,Class,ClassIndex,Probability,Top,Label,Model'
        $rows.Class | Should -Be ($expected.images.'img0.png', $expected.images.'img1.png', $expected.images.'img2.png', $expected.images.'img3.png' |
            ForEach-Object { 'abcde'[$_.classes[0]] })
        $rows[0].Top | Should -Match '^[a-e]=[0-9.]+;[a-e]=[0-9.]+$'
    }

    It 'classify the readable images and report the unreadable one' {
        $mixed = Join-Path $TestDrive 'mixed'
        New-Item -ItemType Directory $mixed | Out-Null
        Copy-Item (Join-Path $images 'img0.png') (Join-Path $mixed 'a.png')
        Set-Content (Join-Path $mixed 'b.png') 'not a png'
        Copy-Item (Join-Path $images 'img1.png') (Join-Path $mixed 'c.png')
        $rows = Get-ChildItem $mixed | Get-KdPrediction -Model $model -ImageSize 16 -ErrorAction SilentlyContinue -ErrorVariable failures
        (Split-Path -Leaf $rows.Path) | Should -Be 'a.png', 'c.png'
        $rows.Index | Should -Be 0, 2
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Dataset.FileCorrupt,*'
        $failures[0].TargetObject | Should -BeLike '*b.png'
    }

    It 'need the statistics a PyTorch model was trained with' {
        $bare = Import-KdModel (Join-Path $files 'resnet8_f32.safetensors') -Architecture resnet8 -Classes 5
        $failure = { Get-KdPrediction -Model $bare -Path $images } | Should -Throw -ErrorId 'KdTools.Model.NormalizationUnknown,*' -PassThru
        $failure.ErrorDetails.Message | Should -BeLike '*import the model with Import-KdModel -Mean and -Std*'
    }
}

Describe 'Measuring several models' {
    BeforeAll {
        $small = New-Teacher -Architecture resnet8 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
        $other = New-Student -Architecture resnet8 -Classes 7
        $student = New-Student -Architecture resnet8 -Dataset $data
    }

    It 'measures the good models around a bad one and reports the bad one' {
        $rows = $small, $other, $student | Measure-Student -Dataset $data -NoTiming -ErrorAction SilentlyContinue -ErrorVariable failures
        $rows | Should -HaveCount 2
        $rows.Role | Should -Be 'Teacher', 'Student'
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Model.ClassCountMismatch,*'
    }

    It 'refuses a teacher of another class count before measuring anything' {
        $rows = @()
        { $rows = $small, $student | Measure-Student -Dataset $data -Teacher $other -NoTiming } |
            Should -Throw -ErrorId 'KdTools.Model.ClassCountMismatch,*' -ExpectedMessage '*teacher*7 classes*'
        $rows | Should -HaveCount 0
    }

    It 'times single-image latency and batched throughput unless told not to' {
        $timed = $small | Measure-Student -Dataset $data -BatchSize 32
        [double]::IsFinite($timed.LatencyMs) -and $timed.LatencyMs -gt 0 | Should -BeTrue
        [double]::IsFinite($timed.ImagesPerSecond) -and $timed.ImagesPerSecond -gt 0 | Should -BeTrue
        $untimed = $small | Measure-Student -Dataset $data -NoTiming
        [double]::IsNaN($untimed.LatencyMs) -and [double]::IsNaN($untimed.ImagesPerSecond) | Should -BeTrue
    }
}

Describe 'Mistakes in arguments carry KdTools ids' {
    BeforeAll {
        $model = New-Student -Architecture resnet8 -Dataset $data
    }

    It 'a dataset folder that does not exist' {
        { $model | Measure-Student -Dataset (Join-Path $TestDrive 'missing') } | Should -Throw -ErrorId 'KdTools.Dataset.PathNotFound,*'
        { Get-KdPrediction -Model $model -Dataset (Join-Path $TestDrive 'missing') } | Should -Throw -ErrorId 'KdTools.Dataset.PathNotFound,*'
        { New-Student -Architecture resnet8 -Dataset (Join-Path $TestDrive 'missing') } | Should -Throw -ErrorId 'KdTools.Dataset.PathNotFound,*'
    }

    It 'a teacher checkpoint that does not exist' {
        { $model | Measure-Student -Dataset $data -Teacher (Join-Path $TestDrive 'missing.safetensors') } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.NotFound,*'
    }

    It 'an object that is not a dataset or a model' {
        { $model | Measure-Student -Dataset 42 } | Should -Throw -ErrorId 'KdTools.Dataset.ArgumentInvalid,*'
        { $model | Measure-Student -Dataset $data -Teacher (Get-Date) } | Should -Throw -ErrorId 'KdTools.Model.ArgumentInvalid,*'
        { Get-KdPrediction -Model $data -Path $images } | Should -Throw -ErrorId 'KdTools.Model.ArgumentInvalid,*'
        { $data | Save-KdModel -Path (Join-Path $TestDrive 'x.safetensors') -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Model.ArgumentInvalid,*'
        { 'no-such-model.safetensors' | Measure-Student -Dataset $data -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.NotFound,*'
    }

    It 'an image that does not exist' {
        { Get-KdPrediction -Model $model -Path (Join-Path $TestDrive 'nothing.png') -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Dataset.FileNotFound,*'
    }
}
