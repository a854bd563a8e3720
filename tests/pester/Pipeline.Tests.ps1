# Acceptance: the pipeline contract, as a user's session. A run or model piped into Invoke-Distillation supplies the
# teacher and nothing else; a CSV plan drives a sweep through its own parameter set; TAKD is one run; history and
# recipes are objects of their own.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 64 -TestCount 32 -ImageSize 16 -Seed 1
    $common = @{ Dataset = $data; BatchSize = 32; Threads = 2 }
    $ce = Invoke-Distillation -Student resnet8 -Method CE -Epochs 1 -LearningRate 0.01 -Seed 7 @common
}

Describe 'Piping a run into Invoke-Distillation' {
    It 'makes its student the teacher and changes no setting of the next run' {
        $next = $ce | Invoke-Distillation -Student resnet8 -Epochs 1 @common
        $next.Teacher | Should -Be 'resnet8'
        $next.Method | Should -Be 'KD'
        $next.LearningRate | Should -Be 0.05
        $next.Seed | Should -Be 1
    }

    It 'refuses to read the run as a plan when no student is named' {
        { $ce | Invoke-Distillation @common } | Should -Throw -ErrorId 'KdTools.Training.SettingInvalid,*'
    }
}

Describe 'A CSV plan' {
    It 'sets each row''s hyper-parameters, and a row without a value gets the default' {
        $plan = Join-Path $TestDrive 'plan.csv'
        Set-Content -Path $plan -Value "Student,Method,Epochs,Seed,Options`nresnet8,KD,1,5,Temperature=2`nresnet8,CE,2,,"
        $runs = Import-Csv $plan | Invoke-Distillation -Teacher $ce @common
        $runs | Should -HaveCount 2
        $runs.Method | Should -Be 'KD', 'CE'
        $runs.Epochs | Should -Be 1, 2
        $runs.Seed | Should -Be 5, 1
        $runs[0].Options | Should -Be 'Temperature=2;Alpha=0.9;LogitStandardization=false'
    }
}

Describe 'TAKD' {
    BeforeAll {
        $takd = $ce | Invoke-Distillation -Student resnet8 -Method TAKD -MethodOption @{ Assistant = 'resnet8'; AssistantEpochs = 1 } -Epochs 1 @common
    }

    It 'emits one run, with the assistant''s run inside it' {
        @($takd) | Should -HaveCount 1
        $takd.Method | Should -Be 'TAKD'
        $takd.EarlierRuns[0].Method | Should -Be 'KD'
        $takd.EarlierRuns[0].Student | Should -Be 'resnet8'
    }

    It 'gives one history row per epoch of both runs with Get-KdHistory -IncludeEarlierRuns' {
        @($takd | Get-KdHistory -IncludeEarlierRuns) | Should -HaveCount 2
    }
}

Describe 'Recipes' {
    It 'are listed with every setting' {
        $dih = Get-KdRecipe DIH
        $dih.Epochs | Should -Be 200
        $dih.Nesterov | Should -BeTrue
        $dih.Schedule | Should -Be '×0.2 at 60,120,180'
    }

    It 'set a run''s settings, and an explicit parameter overrides the recipe''s value' {
        $run = Invoke-Distillation -Student resnet8 -Method CE -Recipe DIH -Epochs 2 @common
        $run.Recipe | Should -Be 'DIH'
        $run.Nesterov | Should -BeTrue
        $run.Epochs | Should -Be 2
        $run.LearningRate | Should -Be 0.1
        ($run | Get-KdHistory).Nesterov | Should -Be $true, $true
    }
}
