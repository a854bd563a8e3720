# Acceptance (issue 3): examples/sweep.ps1 compares methods on one teacher and one student, one CSV row per method
# with the same columns for all. Run on tiny data with three methods: KD, FitNet (its hint stage shortened through
# -MethodOption) and the CE baseline.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $csv = Join-Path $TestDrive 'sweep.csv'
    $rows = & (Join-Path $PSScriptRoot '..' '..' 'examples' 'sweep.ps1') -Method KD, FitNet, CE -OutputPath $csv `
        -TeacherArchitecture resnet14 -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 `
        -TeacherEpochs 1 -Epochs 1 -PreStageEpochs 1 -BatchSize 32 -Threads 2
    $written = Import-Csv $csv
}

Describe 'A sweep over methods' {
    It 'emits one measurement of the final classifier per method, in the order asked' {
        $rows | Should -HaveCount 3
        $rows.Method | Should -Be 'KD', 'FitNet', 'CE'
        $rows.Exit | Should -Be 'final', 'final', 'final'
        $rows.Model | Should -Be 'resnet8', 'resnet8', 'resnet8'
        $rows.Teacher | Should -Be 'resnet14', 'resnet14', 'resnet14'
    }

    It 'reports a finite top-1 in [0, 1] for every method' {
        foreach ($row in $rows) {
            [double]::IsFinite($row.Top1) | Should -BeTrue -Because "$($row.Method) top-1 is $($row.Top1)"
            $row.Top1 | Should -BeGreaterOrEqual 0
            $row.Top1 | Should -BeLessOrEqual 1
        }
    }

    It 'records the options each method ran with, the shortened pre-stage included' {
        $rows[0].Options | Should -Be 'Temperature=4;Alpha=0.9;LogitStandardization=false'
        $rows[1].Options | Should -BeLike 'HintStage=0;HintEpochs=1;*;Beta=100;*'
        $rows[2].Options | Should -Be ''
    }

    It 'writes one CSV row per method with the same columns as the objects' {
        $written | Should -HaveCount 3
        $columns = $rows[0].PSObject.Properties.Name
        foreach ($row in $written) { ($row.PSObject.Properties.Name -join ',') | Should -Be ($columns -join ',') }
        $written.Method | Should -Be 'KD', 'FitNet', 'CE'
        foreach ($row in $written) { [double]::IsFinite([double]$row.Top1) | Should -BeTrue -Because "$($row.Method) top-1 is '$($row.Top1)'" }
    }

    It 'plots top-1 per method beside the CSV' {
        $png = [IO.Path]::ChangeExtension($csv, 'png')
        $png | Should -Exist
        # A PNG starts with its 8-byte signature and an IHDR chunk giving the width and height (big-endian).
        $bytes = [IO.File]::ReadAllBytes($png)
        [BitConverter]::ToString($bytes, 0, 8) | Should -Be '89-50-4E-47-0D-0A-1A-0A'
        [int] ('0x' + [BitConverter]::ToString($bytes, 16, 4).Replace('-', '')) | Should -Be 1000
    }
}
