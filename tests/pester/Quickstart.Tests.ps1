# Acceptance: the user's first session, as Pester 5 tests. ./build.sh test runs every file here with Invoke-Pester
# (Pester 5.9.1 in pwsh 7.6.9, both restored by the build) and writes artifacts/test-results/pester.xml.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 512 -TestCount 128 -ImageSize 16 -Seed 1
    $teacher = New-Teacher -Architecture resnet14 -Dataset $data -Epochs 3 -BatchSize 32 -Threads 2
}

Describe 'A teacher trained on the synthetic dataset' {
    It 'is a teacher of the requested architecture' {
        $teacher.Role | Should -Be 'Teacher'
        $teacher.Architecture | Should -Be 'resnet14'
        $teacher.TrainedEpochs | Should -Be 3
    }

    It 'learns better than chance (0.25)' {
        $teacher.Top1 | Should -BeGreaterThan 0.35
    }
}

Describe 'Distilling into a student' {
    BeforeAll {
        $run = $teacher | Invoke-Distillation -Student resnet8 -Method KD -Dataset $data -Epochs 3 -BatchSize 32 -Threads 2
        $measured = $run | Measure-Student -Dataset $data -NoTiming
    }

    It 'emits one completed run with both last and best accuracy' {
        $run | Should -HaveCount 1
        $run.Status | Should -Be 'Completed'
        $run.BestTop1 | Should -BeGreaterOrEqual $run.Top1
        $run.BestEpoch | Should -BeIn 1, 2, 3
    }

    It 'measures the distilled student against its teacher' {
        $measured.Model | Should -Be 'resnet8'
        $measured.Teacher | Should -Be 'resnet14'
        $measured.Top1 | Should -BeGreaterThan 0.3
        $measured.TeacherAgreement | Should -BeGreaterThan 0.3
    }

    It 'filters like any PowerShell object' {
        @($measured | Where-Object Top1 -ge 0) | Should -HaveCount 1
        @($measured | Where-Object Top1 -gt 1) | Should -HaveCount 0
    }
}

Describe 'Mistakes a user makes' {
    It 'names the known architectures when one is misspelled' {
        { New-Student -Architecture resnt8 -Classes 4 } | Should -Throw -ErrorId 'KdTools.Architecture.Unknown,*'
    }

    It 'lists the valid options of a method' {
        { $teacher | Invoke-Distillation -Student resnet8 -Method KD -MethodOption @{ Temp = 2 } -Dataset $data -Epochs 1 } |
            Should -Throw -ExpectedMessage '*valid options: Temperature, Alpha*'
    }
}
