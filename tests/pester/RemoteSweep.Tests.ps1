# Sweeps across machines (issue 21): examples/remote-sweep.ps1 over real SSH remoting. The second host is an sshd this
# test starts on 127.0.0.1 (its own port, host key and config; key-only login with a generated key; pwsh's SSH
# subsystem), with two sessions on it, so the plan is split in two. One session's pwsh is killed in the middle of a
# run: the sweep reports the row and its checkpoint; rerunning it finishes the row, and the merged CSV equals the same
# plan run locally, row by row and bit for bit.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'SweepHosts.psm1') -Force
    $manifest = (Resolve-Path (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1')).Path
    Import-Module $manifest -Force
    $example = Join-Path $PSScriptRoot '..' '..' 'examples' 'remote-sweep.ps1'
    $sshd = Start-LoopbackSshd -Folder (Join-Path $TestDrive 'sshd')

    . (Join-Path $PSScriptRoot 'SweepFixture.ps1')

    $ledgerFolder = Join-Path $TestDrive 'hosts'
    $sweep = @{
        HostName = '127.0.0.1', '127.0.0.1'; Port = $sshd.Port; KeyFilePath = $sshd.KeyFilePath; SshOption = $sshd.Options
        PlanPath = $planPath; LedgerFolder = $ledgerFolder; TeacherPath = $teacherFile; Synthetic = $synthetic
        ModulePath = $manifest; BatchSize = 16; Threads = 1
    }
    $ledger = Join-Path $ledgerFolder 'sweep.csv'

    # First run: kill the pwsh running row 1 (16 epochs) once its checkpoint has been rewritten after an epoch.
    $job = Start-ThreadJob -ScriptBlock { param($example, $sweep) & $example @sweep -OutputPath $sweep.OutputPath 3>&1 } `
        -ArgumentList $example, ($sweep + @{ OutputPath = (Join-Path $TestDrive 'first.csv') })
    $killed = $null; $checkpoint = $null; $firstWrite = $null
    $deadline = (Get-Date).AddMinutes(4)
    while (-not $killed -and (Get-Date) -lt $deadline -and $job.State -in 'NotStarted', 'Running') {
        $started = if (Test-Path $ledger) { Import-Csv $ledger | Where-Object { $_.Status -eq 'Started' -and $_.Key -like 'method=KD;*seed=1*' } }
        if ($started -and -not $checkpoint) { $checkpoint = $started[0].Checkpoint; $killedPid = [int]$started[0].Process }
        if ($checkpoint -and (Test-Path $checkpoint)) {
            $written = (Get-Item $checkpoint).LastWriteTimeUtc
            if (-not $firstWrite) { $firstWrite = $written }
            elseif ($written -ne $firstWrite) {
                # Only a pwsh this test's sshd started.
                if ("$killedPid" -notin (Get-Content $sshd.SessionPids)) { throw "process $killedPid is not one of the test's sessions" }
                Stop-Process -Id $killedPid -Force
                $killed = $killedPid
            }
        }
        Start-Sleep -Milliseconds 20
    }
    $firstOutput = $job | Receive-Job -Wait -AutoRemoveJob -ErrorAction SilentlyContinue -ErrorVariable firstErrors
    $firstRuns = @($firstOutput | Where-Object { $_.PSObject.Properties['Top1'] })
    $firstWarnings = @($firstOutput | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })

    # Second run: the same command.
    $rerun = & $example @sweep -OutputPath (Join-Path $TestDrive 'merged.csv') 3>&1
    $rerunRuns = @($rerun | Where-Object { $_.PSObject.Properties['Top1'] })
    $merged = Import-Csv (Join-Path $TestDrive 'merged.csv')
}

AfterAll {
    if ($sshd) { Stop-LoopbackSshd $sshd }
}

Describe 'A sweep over SSH remoting' {
    It 'killed a remote pwsh in the middle of row 1' {
        $killed | Should -Not -BeNullOrEmpty
        $killed | Should -Not -Be $PID
    }

    It 'returned the other session''s rows and reported row 1 with its checkpoint' {
        $firstRuns.Row | Should -Be 2, 4
        ($firstWarnings.Message -join "`n") | Should -BeLike "*Started, checkpoint $checkpoint; row method=KD*"
        ($firstWarnings.Message -join "`n") | Should -BeLike '*rows 1, 3 of 4 did not finish*'
        (Import-Csv (Join-Path $TestDrive 'first.csv')).Row | Should -Be 2, 4
    }

    It 'finished every row when run again: the completed ones from the ledger, the killed one resumed' {
        $rerunRuns.Row | Should -Be 1, 2, 3, 4
        $rerunRuns.Status | Should -Be 'Completed', 'Skipped', 'Completed', 'Skipped'
        $rerunRuns | ForEach-Object { $_.PSComputerName | Should -Be '127.0.0.1' }
        $entries = Import-Csv $ledger
        @($entries | Where-Object Status -eq Completed) | Should -HaveCount 4
        # Row 1 started twice (killed, then resumed from the same checkpoint).
        @($entries | Where-Object { $_.Status -eq 'Started' -and $_.Checkpoint -eq $checkpoint }) | Should -HaveCount 2
    }

    It 'merges into one CSV equal to the local run, row by row and bit for bit' {
        $merged.Method | Should -Be $local.Method
        for ($i = 0; $i -lt 4; $i++) {
            $because = "row $($i + 1) ($($local[$i].Method), seed $($local[$i].Seed))"
            [double]$merged[$i].Top1 | Should -Be $local[$i].Top1 -Because $because
            [double]$merged[$i].Top5 | Should -Be $local[$i].Top5 -Because $because
            [double]$merged[$i].BestTop1 | Should -Be $local[$i].BestTop1 -Because $because
            [double]$merged[$i].TrainLoss | Should -Be $local[$i].TrainLoss -Because $because
            $merged[$i].LossTerms | Should -Be $local[$i].LossTerms -Because $because
            [int]$merged[$i].Epochs | Should -Be $local[$i].Epochs -Because $because
        }
    }

    It 'keeps the ledgers equal to the local one on every metric, to the last bit' {
        $localEntries = Import-Csv (Join-Path $TestDrive 'local' 'sweep.csv') | Where-Object Status -eq Completed
        $remoteEntries = Import-Csv $ledger | Where-Object Status -eq Completed
        foreach ($entry in $localEntries) {
            $remote = $remoteEntries | Where-Object Key -eq $entry.Key
            $remote | Should -HaveCount 1 -Because $entry.Key
            foreach ($column in 'Top1', 'Top5', 'BestTop1', 'BestTop5', 'BestEpoch', 'TrainLoss', 'LossTerms', 'Options') {
                $remote.$column | Should -BeExactly $entry.$column -Because "$column of $($entry.Key)"
            }
        }
    }

    It 'leaves the networks on the host: a deserialised run says how to fetch its checkpoint' {
        $rerunRuns[0] | Measure-Student -Dataset $data -ErrorVariable notLocal -ErrorAction SilentlyContinue
        $notLocal[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Model.NotLocal*'
        $notLocal[0].Exception.Message | Should -BeLike '*New-PSSession -HostName 127.0.0.1*Copy-Item -FromSession*Import-KdModel*'
    }
}
