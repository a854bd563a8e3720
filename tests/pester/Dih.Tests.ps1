# Acceptance (issue 4): DIH's pipeline. Add-IntermediateHead turns a trained teacher into a multi-exit teacher,
# Measure-Student reports each exit, and Invoke-Distillation -Method DIH distills from all of them.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 -Seed 1
    $teacher = New-Teacher -Architecture resnet14 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
    $headed = $teacher | Add-IntermediateHead -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
}

Describe 'Add-IntermediateHead' {
    It 'emits the teacher with one head per stage of a CIFAR ResNet' {
        $headed.Role | Should -Be 'Teacher'
        $headed.Architecture | Should -Be 'resnet14'
        $headed.Exits | Should -Be 'head1,head2,head3'
    }

    It 'reports each head''s test accuracy' {
        $headed.ExitTop1 | Should -Match '^head1=[0-9.]+;head2=[0-9.]+;head3=[0-9.]+$'
    }

    It 'keeps the teacher''s own provenance' {
        $headed.TrainedWith | Should -Be 'CE'
        $headed.Top1 | Should -Be $teacher.Top1
    }
}

Describe 'Measuring a teacher with heads' {
    BeforeAll {
        $rows = $headed | Measure-Student -Dataset $data -NoTiming
    }

    It 'gives one row per exit plus their ensemble' {
        $rows.Exit | Should -Be 'final', 'head1', 'head2', 'head3', 'ensemble'
    }

    It 'filters the ensemble row like any column' {
        $ensemble = @($rows | Where-Object Exit -eq 'ensemble')
        $ensemble | Should -HaveCount 1
        $ensemble[0].Model | Should -Be 'resnet14'
        $ensemble[0].Top1 | Should -BeGreaterOrEqual 0
        $ensemble[0].Top1 | Should -BeLessOrEqual 1
    }

    It 'scores the final classifier exactly as without heads' {
        $plain = $teacher | Measure-Student -Dataset $data -NoTiming
        $final = $rows | Where-Object Exit -eq 'final'
        $final.Top1 | Should -Be $plain.Top1
        $final.Loss | Should -Be $plain.Loss
    }
}

Describe 'Invoke-Distillation -Method DIH' {
    It 'distills from the final classifier and every head' {
        $run = $headed | Invoke-Distillation -Student resnet8 -Method DIH -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
        $run.Status | Should -Be 'Completed'
        $run.Teacher | Should -Be 'resnet14'
        # CE is part of each branch's loss, so there is no separate ce term.
        $run.LossTerms | Should -Match '^dih_final=[0-9.eE+-]+;dih_head1=[0-9.eE+-]+;dih_head2=[0-9.eE+-]+;dih_head3=[0-9.eE+-]+$'
        $run.Options | Should -Be 'Temperature=5;Alpha=0.1;LogitStandardization=false'
    }

    It 'says to run Add-IntermediateHead when the teacher has no heads' {
        $failure = { $teacher | Invoke-Distillation -Student resnet8 -Method DIH -Dataset $data -Epochs 1 -BatchSize 32 } |
            Should -Throw -ErrorId 'KdTools.Method.TeacherHeadsRequired,*' -PassThru
        $failure.ErrorDetails.Message | Should -BeLike '*Add-IntermediateHead*'
    }
}
