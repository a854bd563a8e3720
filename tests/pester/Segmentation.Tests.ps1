# Acceptance (issue 10): segmentation through the same cmdlets as classification. examples/segmentation.ps1 on tiny
# scenes (16 images of 32 pixels, one epoch each): a teacher, then the student by CE, PixelKD, CWD and full SKD, one
# CSV of segmentation measurements and a bar plot; label PNGs from Get-KdPrediction; task mixing fails up front.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $csv = Join-Path $TestDrive 'segmentation.csv'
    $rows = & (Join-Path $PSScriptRoot '..' '..' 'examples' 'segmentation.ps1') -OutputPath $csv `
        -TeacherArchitecture pspnet_resnet18_w8 -Classes 3 -TrainCount 16 -TestCount 8 -ImageSize 32 `
        -TeacherEpochs 1 -Epochs 1 -BatchSize 8 -CriticWidth 8 -Threads 2
    $written = Import-Csv $csv
}

Describe 'The segmentation example' {
    It 'emits one segmentation measurement per method, in the order asked' {
        $rows | Should -HaveCount 4
        $rows.Method | Should -Be 'CE', 'PixelKD', 'CWD', 'SKD'
        $rows.Model | Should -Be 'pspnet_resnet18_w8', 'pspnet_resnet18_w8', 'pspnet_resnet18_w8', 'pspnet_resnet18_w8'
        $rows[0].PSObject.TypeNames[0] | Should -Be 'KdTools.KdSegmentationMeasurement'
    }

    It 'reports mIoU, pixel accuracy and per-pixel teacher agreement in [0, 1], and every class IoU' {
        foreach ($row in $rows) {
            foreach ($value in $row.MeanIoU, $row.PixelAccuracy, $row.TeacherAgreement) {
                [double]::IsFinite($value) | Should -BeTrue -Because "$($row.Method): $value"
                $value | Should -BeGreaterOrEqual 0
                $value | Should -BeLessOrEqual 1
            }
            $row.ClassIoU | Should -Match '^background=[0-9.]+(;[a-z ]+=[0-9.]+)*$'
            $row.Pixels | Should -BeGreaterThan 0
        }
        $rows[3].Options | Should -BeLike '*CriticWidth=8*'
    }

    It 'writes one CSV row per method with only the segmentation columns' {
        $written | Should -HaveCount 4
        $columns = $written[0].PSObject.Properties.Name
        $columns | Should -Contain 'MeanIoU'
        $columns | Should -Contain 'ClassIoU'
        $columns | Should -Not -Contain 'Top1'
        $written.Method | Should -Be 'CE', 'PixelKD', 'CWD', 'SKD'
    }

    It 'plots mIoU per method beside the CSV' {
        $png = [IO.Path]::ChangeExtension($csv, 'png')
        $bytes = [IO.File]::ReadAllBytes($png)
        [BitConverter]::ToString($bytes, 0, 8) | Should -Be '89-50-4E-47-0D-0A-1A-0A'
    }
}

Describe 'Segmentation cmdlets' {
    BeforeAll {
        $data = Get-KdDataset -Synthetic -Task Segmentation -Classes 3 -TrainCount 8 -TestCount 4 -ImageSize 32
        $model = New-Teacher pspnet_resnet18_w8 -Dataset $data -Epochs 1 -BatchSize 8 -Threads 2
    }

    It 'generates segmentation scenes with -Task Segmentation' {
        $data.Task | Should -Be 'Segmentation'
        $data.Classes | Should -Be 3
        $data.Height | Should -Be 32
    }

    It 'writes a VOC-palette label PNG of each image''s size for a folder of images' {
        $images = Join-Path $TestDrive 'scenes'
        New-Item -ItemType Directory $images | Out-Null
        # A 16x16 RGB PNG and a 24x20 copy of it scaled by the encoder below stand in for photos.
        $png = [Convert]::FromBase64String('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAIElEQVR42mNkYPgvwPCDeMTCIPCDgYEENKphVMPQ0QAAivz6JdiBPUoAAAAASUVORK5CYII=')
        [IO.File]::WriteAllBytes((Join-Path $images 'a.png'), $png)
        [IO.File]::WriteAllBytes((Join-Path $images 'b.png'), $png)
        $labels = Join-Path $TestDrive 'labels'
        $maps = Get-KdPrediction -Model $model -Path $images -OutputFolder $labels
        $maps | Should -HaveCount 2
        $maps.LabelPath | Should -Be (Join-Path $labels 'a.png'), (Join-Path $labels 'b.png')
        foreach ($map in $maps) {
            $map.Width | Should -Be 16
            $bytes = [IO.File]::ReadAllBytes($map.LabelPath)
            # IHDR: width and height 16, bit depth 8, colour type 3 (indexed), then a PLTE chunk with VOC's colours.
            [int] ('0x' + [BitConverter]::ToString($bytes, 16, 4).Replace('-', '')) | Should -Be 16
            $bytes[24] | Should -Be 8
            $bytes[25] | Should -Be 3
            [Text.Encoding]::ASCII.GetString($bytes, 37, 4) | Should -Be 'PLTE'
            [BitConverter]::ToString($bytes, 41, 6) | Should -Be '00-00-00-80-00-00'
            $shares = $map.Classes -split ';' | ForEach-Object { [double] ($_ -split '=')[1] }
            ($shares | Measure-Object -Sum).Sum | Should -BeGreaterThan 0.999
        }
    }

    It 'reports a distillation run''s mIoU in its own columns, and no top-1' {
        $run = $model | Invoke-Distillation -Student pspnet_resnet18_w8 -Method PixelKD -Dataset $data -Epochs 1 -BatchSize 8 -Threads 2
        [double]::IsFinite($run.MeanIoU) | Should -BeTrue
        $run.MeanIoU | Should -BeLessOrEqual 1
        $run.BestMeanIoU | Should -Be $run.MeanIoU
        [double]::IsNaN($run.Top1) | Should -BeTrue
        "$run" | Should -BeLike 'PixelKD pspnet_resnet18_w8→pspnet_resnet18_w8: mIoU *'
    }

    It 'fails up front when a classifier meets a segmentation dataset' {
        { New-Teacher resnet8 -Dataset $data -Epochs 1 } | Should -Throw -ErrorId 'KdTools.Model.TaskMismatch*'
        { $model | Invoke-Distillation -Student pspnet_resnet18_w8 -Method KD -Dataset $data -Epochs 1 } |
            Should -Throw -ErrorId 'KdTools.Method.TaskUnsupported*'
    }

    It 'asks a segmentation model for an output folder' {
        { Get-KdPrediction -Model $model -Path $TestDrive } | Should -Throw -ErrorId 'KdTools.Model.TaskMismatch*'
    }
}
