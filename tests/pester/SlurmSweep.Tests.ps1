# Sweeps on a Slurm cluster (issue 21): examples/slurm submits a 4-row plan as a job array to a single-node cluster this
# test starts (Debian's slurm-wlm and munge, configured in a temp folder, daemons on 127.0.0.1). The task of row 1 is
# killed in the middle of its run; merge.ps1 reports it with its checkpoint; `scontrol requeue` reruns the task, which
# resumes from the checkpoint; the merged CSV equals the same plan run locally, row by row and bit for bit.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'SweepHosts.psm1') -Force
    $manifest = (Resolve-Path (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1')).Path
    Import-Module $manifest -Force
    $examples = Join-Path $PSScriptRoot '..' '..' 'examples' 'slurm'
    $cluster = Start-SlurmCluster -Folder (Join-Path $TestDrive 'slurm')

    . (Join-Path $PSScriptRoot 'SweepFixture.ps1')

    $shared = Join-Path $TestDrive 'shared'
    $job = & (Join-Path $examples 'submit.ps1') -PlanPath $planPath -SharedFolder $shared -TeacherPath $teacherFile `
        -Synthetic $synthetic -Student resnet8 -ModulePath $manifest -PwshCommand (Get-PwshCommand) -BatchSize 16 -Threads 1
    $ledger = Join-Path $shared 'sweep.csv'

    # Kill row 1's task (its pwsh, named by the ledger) once its checkpoint has been rewritten after an epoch.
    $killed = $null; $checkpoint = $null; $firstWrite = $null
    $deadline = (Get-Date).AddMinutes(4)
    while (-not $killed -and (Get-Date) -lt $deadline) {
        $started = if (Test-Path $ledger) { Import-Csv $ledger | Where-Object { $_.Status -eq 'Started' -and $_.Key -like 'method=KD;*seed=1;*' } }
        if ($started -and -not $checkpoint) { $checkpoint = $started[0].Checkpoint; $taskPid = [int]$started[0].Process }
        if ($checkpoint -and (Test-Path $checkpoint)) {
            $written = (Get-Item $checkpoint).LastWriteTimeUtc
            if (-not $firstWrite) { $firstWrite = $written }
            elseif ($written -ne $firstWrite) {
                # Only the task's own pwsh: its command line runs the sweep's run-row.ps1.
                $commandLine = (Get-Content "/proc/$taskPid/cmdline" -Raw) -replace "`0", ' '
                if ($commandLine -notlike "*$shared*run-row.ps1*") { throw "process $taskPid is not a task of this sweep: $commandLine" }
                Stop-Process -Id $taskPid -Force
                $killed = $taskPid
            }
        }
        Start-Sleep -Milliseconds 20
    }
    Wait-SlurmJob $job
    $firstMerge = & (Join-Path $examples 'merge.ps1') -SharedFolder $shared -OutputPath (Join-Path $TestDrive 'first.csv') 3>&1
    $firstWarnings = @($firstMerge | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
    $firstState = (& scontrol show job "${job}_0" 2>&1) -join ' '

    & scontrol requeue "${job}_0"
    $requeueExit = $LASTEXITCODE
    # Slurm holds a requeued job back for a while (its StartTime, about two minutes ahead): release it now.
    & scontrol update "JobId=${job}_0" StartTime=now
    Start-Sleep -Milliseconds 500
    Wait-SlurmJob $job
    $merged = @(& (Join-Path $examples 'merge.ps1') -SharedFolder $shared -OutputPath (Join-Path $TestDrive 'merged.csv') 3>&1)
}

AfterAll {
    if ($cluster) { Stop-SlurmCluster $cluster }
}

Describe 'A sweep as a Slurm job array' {
    It 'ran one array task per row, and the killed task of row 1 failed' {
        $killed | Should -Not -BeNullOrEmpty
        $firstState | Should -Match 'JobState=(FAILED|CANCELLED)'
        (Get-ChildItem (Join-Path $shared 'logs')).Name | Sort-Object | Should -Be 'row-0.out', 'row-1.out', 'row-2.out', 'row-3.out'
    }

    It 'merged the finished rows and reported row 1 with its checkpoint' {
        (Import-Csv (Join-Path $TestDrive 'first.csv')).Row | Should -Be 2, 3, 4
        ($firstWarnings.Message -join "`n") | Should -BeLike "*Started, checkpoint $checkpoint; row method=KD*"
        ($firstWarnings.Message -join "`n") | Should -BeLike '*rows 1 of 4 did not finish*'
    }

    It 'resumed row 1 from its checkpoint when the task was requeued' {
        $requeueExit | Should -Be 0
        $entries = Import-Csv $ledger
        @($entries | Where-Object { $_.Status -eq 'Started' -and $_.Checkpoint -eq $checkpoint }) | Should -HaveCount 2
        @($entries | Where-Object Status -eq Completed) | Should -HaveCount 4
        Get-Content (Join-Path $shared 'logs' 'row-0.out') -Raw | Should -Match 'row 1: KD resnet8→resnet8'
    }

    It 'merges into one CSV equal to the local run, row by row and bit for bit' {
        $merged | Should -HaveCount 4
        $merged.Row | Should -Be 1, 2, 3, 4
        for ($i = 0; $i -lt 4; $i++) {
            $because = "row $($i + 1) ($($local[$i].Method), seed $($local[$i].Seed))"
            $merged[$i].Method | Should -Be $local[$i].Method -Because $because
            [double]$merged[$i].Top1 | Should -Be $local[$i].Top1 -Because $because
            [double]$merged[$i].BestTop1 | Should -Be $local[$i].BestTop1 -Because $because
            [double]$merged[$i].TrainLoss | Should -Be $local[$i].TrainLoss -Because $because
            $merged[$i].LossTerms | Should -Be $local[$i].LossTerms -Because $because
            [int]$merged[$i].Epochs | Should -Be $local[$i].Epochs -Because $because
        }
        $localEntries = Import-Csv (Join-Path $TestDrive 'local' 'sweep.csv') | Where-Object Status -eq Completed
        $clusterEntries = Import-Csv $ledger | Where-Object Status -eq Completed
        foreach ($entry in $localEntries) {
            $other = $clusterEntries | Where-Object Key -eq $entry.Key
            foreach ($column in 'Top1', 'Top5', 'BestTop1', 'TrainLoss', 'LossTerms') {
                $other.$column | Should -BeExactly $entry.$column -Because "$column of $($entry.Key)"
            }
        }
    }
}
