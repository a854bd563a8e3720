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

Describe 'examples/quickstart.ps1, shortened' {
    BeforeAll {
        # The demo's own script at one epoch each and two seeds (about 15 s of CPU): what it writes and what it prints.
        $folder = Join-Path $TestDrive 'quickstart'
        $csv = Join-Path $folder 'results.csv'
        Push-Location $TestDrive
        try {
            $printed = & (Join-Path $PSScriptRoot '..' '..' 'examples' 'quickstart.ps1') -OutputPath $csv -TeacherEpochs 1 `
                -StudentEpochs 1 -Seeds 1, 2 -LabelledCount 20 6>&1 | ForEach-Object { "$_" }
        } finally {
            Pop-Location
        }
        $rows = Import-Csv $csv
    }

    It 'measures the teacher and a KD and a CE student per seed into the CSV it was given' {
        $rows | Should -HaveCount 5
        ($rows | Where-Object Model -eq 'resnet8') | Should -HaveCount 4
    }

    It 'writes the plot beside the CSV and nothing into the current folder' {
        Join-Path $folder 'results.png' | Should -Exist
        @(Get-ChildItem $TestDrive -File) | Should -HaveCount 0
    }

    It 'prints both students as mean ± sd and the margin with its standard error' {
        @($printed -match '^KD student +\d+\.\d ± \d+\.\d %  \(mean ± sd over 2 seeds, 20 labelled images\)$') |
            Should -HaveCount 1
        @($printed -match '^CE student +\d+\.\d ± \d+\.\d %$') | Should -HaveCount 1
        @($printed -match '^KD − CE +[+-]\d+\.\d ± \d+\.\d points \(± standard error; -?\d+\.\d standard errors from zero\)$') |
            Should -HaveCount 1
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
