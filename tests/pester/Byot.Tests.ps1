# Acceptance: BYOT self-distillation. No teacher; the trained student keeps its shallow branches as exits, which
# Measure-Student reports next to the final classifier and their ensemble, and which a checkpoint preserves.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $d = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 -Seed 1
    $run = Invoke-Distillation -Method BYOT -Student resnet8 -Dataset $d -Epochs 1 -BatchSize 32 -Threads 2
    $rows = $run | Measure-Student -Dataset $d -NoTiming
}

Describe 'Invoke-Distillation -Method BYOT' {
    It 'trains without a teacher' {
        $run.Status | Should -Be 'Completed'
        $run.Teacher | Should -Be ''
        $run.TeacherParameters | Should -Be 0
    }

    It 'reports the deepest classifier''s label loss, the branches'' soft and hard losses and the feature term' {
        $run.LossTerms | Should -Match '^ce=[0-9.eE+-]+;soft_ce=[0-9.eE+-]+;branch_ce=[0-9.eE+-]+;feature=[0-9.eE+-]+$'
    }

    It 'returns a student with one branch after each stage but the last' {
        $run.StudentModel.Exits | Should -Be 'branch1,branch2'
    }
}

Describe 'Measuring a BYOT student' {
    It 'gives rows for the final classifier, each branch and the ensemble' {
        $rows.Exit | Should -Be 'final', 'branch1', 'branch2', 'ensemble'
        $rows.Method | Should -Be 'BYOT', 'BYOT', 'BYOT', 'BYOT'
    }

    It 'gives every row the same columns' {
        $columns = $rows[0].PSObject.Properties.Name -join ','
        foreach ($row in $rows) { ($row.PSObject.Properties.Name -join ',') | Should -Be $columns }
    }

    It 'has no teacher to agree with' {
        foreach ($row in $rows) { [double]::IsNaN($row.TeacherAgreement) | Should -BeTrue }
    }
}

Describe 'Saving a BYOT student' {
    BeforeAll {
        $path = Join-Path $TestDrive 'byot.safetensors'
        $run | Save-KdModel -Path $path
    }

    It 'loads back with its branches' {
        $loaded = New-Teacher -Path $path
        $loaded.Architecture | Should -Be 'resnet8'
        $loaded.Exits | Should -Be 'branch1,branch2'
        $loaded.TrainedWith | Should -Be 'BYOT'
    }

    It 'measures the same on every exit from the checkpoint' {
        $again = Measure-Student -Model $path -Dataset $d -NoTiming
        $again.Exit | Should -Be $rows.Exit
        $again.Top1 | Should -Be $rows.Top1
        $again.Loss | Should -Be $rows.Loss
    }
}
