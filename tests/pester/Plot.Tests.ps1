# Acceptance (issue 9, pictures): runs and a sweep's measurements drawn to PNG files, headless, with real pwsh.
BeforeAll {
    $module = Join-Path $PSScriptRoot '..' '..' 'module'
    Import-Module (Join-Path $module 'KdTools.psd1') -Force
    # The decoder KdTools reads image folders with, from the module's own folder.
    Add-Type -Path (Join-Path $module 'bin' 'StbImageSharp.dll')
    function Read-Png([string] $Path) {
        [StbImageSharp.ImageResult]::FromMemory([IO.File]::ReadAllBytes($Path), [StbImageSharp.ColorComponents]::RedGreenBlue)
    }

    $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 32 -ImageSize 16 -Seed 1
    $teacher = New-Teacher -Architecture resnet8 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
    $training = @{ Dataset = $data; Epochs = 2; BatchSize = 32; Threads = 2 }
    $runs = @(
        $teacher | Invoke-Distillation -Student resnet8 -Method KD @training
        $teacher | Invoke-Distillation -Student resnet8 -Method FitNet -MethodOption @{ HintEpochs = 1 } @training
    )
}

Describe 'Learning curves' {
    It 'are written as a PNG of the requested size, a run with a pre-stage included' {
        $runs[1].PreStages | Should -Be 'hint:1'
        $path = Join-Path $TestDrive 'curves.png'
        $runs | Export-KdPlot -Path $path -Width 900 -Height 400
        $image = Read-Png $path
        $image.Width | Should -Be 900
        $image.Height | Should -Be 400
    }

    It 'draw the metrics asked for and emit the file with -PassThru' {
        $file = $runs | Export-KdPlot -Path (Join-Path $TestDrive 'plots' 'lr.png') -Metric LearningRate, TestLoss, TrainTop1 -Width 640 -Height 480 -PassThru
        $file.Name | Should -Be 'lr.png'
        (Read-Png $file.FullName).Width | Should -Be 640
    }

    It 'do not overwrite a file without -Force, and -WhatIf writes nothing' {
        $path = Join-Path $TestDrive 'once.png'
        $runs | Export-KdPlot -Path $path -Width 300 -Height 200
        { $runs | Export-KdPlot -Path $path } | Should -Throw -ErrorId 'KdTools.Plot.Exists,*'
        $runs | Export-KdPlot -Path $path -Width 400 -Height 300 -Force
        (Read-Png $path).Width | Should -Be 400
        $runs | Export-KdPlot -Path (Join-Path $TestDrive 'whatif.png') -WhatIf
        Join-Path $TestDrive 'whatif.png' | Should -Not -Exist
    }

    It 'skip what is not a run, with an error, and draw the rest' {
        $path = Join-Path $TestDrive 'mixed.png'
        $runs[0], 42, $runs[1] | Export-KdPlot -Path $path -ErrorAction SilentlyContinue -ErrorVariable failures
        $path | Should -Exist
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Plot.InputInvalid,*'
    }
}

Describe 'A sweep''s bar chart' {
    It 'draws the students'' top-1 with the teacher as a line' {
        $rows = @($teacher) + $runs | Measure-Student -Dataset $data -NoTiming
        $path = Join-Path $TestDrive 'sweep.png'
        $rows | Export-KdPlot -Path $path -Kind Bar -Width 700 -Height 350
        $image = Read-Png $path
        $image.Width | Should -Be 700
        $image.Height | Should -Be 350
    }

    It 'needs measurements' {
        { $runs | Export-KdPlot -Path (Join-Path $TestDrive 'none.png') -Kind Bar -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'KdTools.Plot.Empty,*'
    }
}
