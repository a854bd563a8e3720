# Acceptance (issue 11): examples/sweep.ps1 on a heterogeneous pair of the CIFAR benchmark, a ShuffleNet student of a
# wide ResNet teacher. AB cannot pair their stages (the student's maps are half the teacher's size): the sweep skips it
# and still measures the methods that can, at the sweep's learning rate for a lightweight student (RepDistiller's 0.01).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $csv = Join-Path $TestDrive 'sweep.csv'
    $rows = & (Join-Path $PSScriptRoot '..' '..' 'examples' 'sweep.ps1') -Student ShuffleV1 -Teacher resnet32x4 `
        -Method KD, AB, CE -OutputPath $csv -Classes 4 -TrainCount 32 -TestCount 16 -ImageSize 16 `
        -TeacherEpochs 1 -Epochs 1 -PreStageEpochs 1 -BatchSize 16 -Threads 2 3>$null
    $written = Import-Csv $csv
}

Describe 'A sweep over a heterogeneous pair' {
    It 'measures the methods that can pair the networks and skips the one that cannot' {
        $rows | Should -HaveCount 2
        $rows.Method | Should -Be 'KD', 'CE'
        $rows.Model | Should -Be 'ShuffleV1', 'ShuffleV1'
        $rows.Teacher | Should -Be 'resnet32x4', 'resnet32x4'
        foreach ($row in $rows) { [double]::IsFinite($row.Top1) | Should -BeTrue -Because "$($row.Method) top-1 is $($row.Top1)" }
    }

    It 'writes the same rows to the CSV' {
        $written.Method | Should -Be 'KD', 'CE'
    }
}
