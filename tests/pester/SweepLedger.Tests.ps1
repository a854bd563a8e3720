# Resumable sweeps (issue 21): Invoke-Distillation -ResultPath keeps a ledger; a rerun of the same plan skips the
# completed rows, resumes a killed row from its checkpoint (bit-identical to an uninterrupted run) and reruns failed
# ones; a failing row is a non-terminating error recorded in the ledger; many writers never lose or tear a line.
BeforeAll {
    $manifest = Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1'
    Import-Module $manifest -Force
    # This pwsh, as a command line: the build's pwsh is a .NET tool (dotnet pwsh.dll), an installed one its own executable.
    $pwsh = [Environment]::ProcessPath
    $pwshArgs = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    $data = Get-KdDataset -Synthetic -Classes 3 -TrainCount 48 -TestCount 24 -ImageSize 8 -Seed 1
    $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1 -BatchSize 16 -Threads 1
    $teacherFile = Join-Path $TestDrive 'teacher.safetensors'
    $teacher | Save-KdModel -Path $teacherFile
    $common = @{ Teacher = $teacher; Dataset = $data; Student = 'resnet8'; BatchSize = 16; Threads = 1 }
    $plan = @(
        [pscustomobject]@{ Method = 'KD'; Seed = 1; Epochs = 1; Options = '' }
        [pscustomobject]@{ Method = 'KD'; Seed = 1; Epochs = 1; Options = 'Bogus=3' }
        [pscustomobject]@{ Method = 'CE'; Seed = 2; Epochs = 1; Options = '' }
    )
    $ledger = Join-Path $TestDrive 'sweep.csv'
    $first = $plan | Invoke-Distillation @common -ResultPath $ledger -ErrorVariable firstErrors -ErrorAction SilentlyContinue
    $afterFirst = Import-Csv $ledger
    $second = $plan | Invoke-Distillation @common -ResultPath $ledger -ErrorVariable secondErrors -ErrorAction SilentlyContinue -Verbose 4>&1
    $afterSecond = Import-Csv $ledger
}

Describe 'A sweep with a ledger' {
    It 'runs the good rows and reports the bad one as a non-terminating error with its id' {
        @($first) | Should -HaveCount 2
        $first.Method | Should -Be 'KD', 'CE'
        @($firstErrors) | Should -HaveCount 1
        $firstErrors[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Method.OptionUnknown*'
    }

    It 'records every row: started, then completed with its results or failed with its error' {
        $afterFirst.Status | Should -Be 'Started', 'Completed', 'Started', 'Failed', 'Started', 'Completed'
        $completed = $afterFirst | Where-Object Status -eq Completed
        [double]$completed[0].Top1 | Should -Be $first[0].Top1
        [double]$completed[0].TrainLoss | Should -Be $first[0].TrainLoss
        [double]$completed[1].TrainLoss | Should -Be $first[1].TrainLoss
        $failed = $afterFirst | Where-Object Status -eq Failed
        $failed.ErrorId | Should -Be 'KdTools.Method.OptionUnknown'
        $failed.Key | Should -BeLike '*options=Bogus=3*'
        $completed | ForEach-Object { $_.Checkpoint | Should -Exist }
        (Split-Path $completed[0].Checkpoint) | Should -Be (Join-Path $TestDrive 'sweep-checkpoints')
    }

    It 'skips the completed rows when run again, and reruns the failed one' {
        $skipped = @($second | Where-Object { $_ -is [KdTools.KdRun] })
        $skipped.Status | Should -Be 'Skipped', 'Skipped'
        $skipped.Method | Should -Be 'KD', 'CE'
        $skipped[0].Top1 | Should -Be $first[0].Top1
        $skipped[1].TrainLoss | Should -Be $first[1].TrainLoss
        $skipped[0].LossTerms | Should -Be $first[0].LossTerms
        $skipped[0].Checkpoint | Should -Be $first[0].Checkpoint
        ($second | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Skipped*' }) | Should -HaveCount 2
        @($secondErrors) | Should -HaveCount 1
        $new = $afterSecond | Select-Object -Skip $afterFirst.Count
        $new.Status | Should -Be 'Started', 'Failed'
    }

    It 'says where the network of a skipped row is when a cmdlet needs it' {
        $second | Where-Object { $_ -is [KdTools.KdRun] } | Select-Object -First 1 |
            Measure-Student -Dataset $data -ErrorVariable notLocal -ErrorAction SilentlyContinue
        $notLocal[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Model.NotLocal*'
        $notLocal[0].Exception.Message | Should -BeLike "*Import-KdModel '$($first[0].Checkpoint)'*"
    }

    It 'refuses a file that is not a ledger before any run' {
        $other = Join-Path $TestDrive 'other.csv'
        'Name,Value', 'a,1' | Set-Content $other
        { $plan | Invoke-Distillation @common -ResultPath $other -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Sweep.LedgerUnreadable*'
    }
}

Describe 'A killed sweep, run again' {
    BeforeAll {
        # The row a process is running when it is killed (kill -9: no cleanup, no ledger line).
        $row = Join-Path $TestDrive 'row.csv'
        [pscustomobject]@{ Method = 'KD'; Seed = 3; Epochs = 8 } | Export-Csv $row
        $killedLedger = Join-Path $TestDrive 'killed.csv'
        $script = @"
Import-Module '$manifest'
`$data = Get-KdDataset -Synthetic -Classes 3 -TrainCount 48 -TestCount 24 -ImageSize 8 -Seed 1
Import-Csv '$row' | Invoke-Distillation -Teacher '$teacherFile' -Dataset `$data -Student resnet8 -BatchSize 16 -Threads 1 -ResultPath '$killedLedger' | Out-Null
"@
        $scriptFile = Join-Path $TestDrive 'killed-row.ps1'
        Set-Content $scriptFile $script
        $process = Start-Process $pwsh -ArgumentList ($pwshArgs + '-NoProfile', '-NonInteractive', '-File', $scriptFile) -PassThru
        # Kill it once its checkpoint has been rewritten after an epoch (the first write is before any step).
        $deadline = (Get-Date).AddMinutes(3)
        $checkpoint = $null; $firstWrite = $null
        while ((Get-Date) -lt $deadline -and -not $process.HasExited) {
            if (-not $checkpoint -and (Test-Path $killedLedger)) {
                $checkpoint = (Import-Csv $killedLedger | Select-Object -First 1).Checkpoint
            }
            if ($checkpoint -and (Test-Path $checkpoint)) {
                $written = (Get-Item $checkpoint).LastWriteTimeUtc
                if (-not $firstWrite) { $firstWrite = $written }
                elseif ($written -ne $firstWrite) { break }
            }
            Start-Sleep -Milliseconds 20
        }
        $exitedBeforeKill = $process.HasExited
        $process.Kill()
        $process.WaitForExit()
        $beforeRerun = Import-Csv $killedLedger
        $rerun = Import-Csv $row | Invoke-Distillation @common -ResultPath $killedLedger -Verbose 4>&1
        $resumed = $rerun | Where-Object { $_ -is [KdTools.KdRun] }
        $uninterrupted = Import-Csv $row | Invoke-Distillation @common -ResultPath (Join-Path $TestDrive 'whole.csv')
    }

    It 'was killed in the middle of the run, leaving a Started line and its checkpoint' {
        $exitedBeforeKill | Should -BeFalse
        $beforeRerun.Status | Should -Be 'Started'
        $beforeRerun.Checkpoint | Should -Be $checkpoint
    }

    It 'resumes the killed row from its checkpoint and ends bit-identical to an uninterrupted run' {
        ($rerun | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Resumed*' }) | Should -HaveCount 1
        $resumed.Epochs | Should -Be 8
        $resumed.Top1 | Should -Be $uninterrupted.Top1
        $resumed.TrainLoss | Should -Be $uninterrupted.TrainLoss
        $resumed.LossTerms | Should -Be $uninterrupted.LossTerms
        ($resumed | Get-KdHistory).TrainLoss | Should -Be ($uninterrupted | Get-KdHistory).TrainLoss
        $a = $resumed | Measure-Student -Dataset $data -NoTiming
        $b = $uninterrupted | Measure-Student -Dataset $data -NoTiming
        $a.Loss | Should -Be $b.Loss
    }

    It 'records the resumed row as completed' {
        (Import-Csv $killedLedger).Status | Should -Be 'Started', 'Started', 'Completed'
    }
}

Describe 'Writers of one ledger' {
    It 'never lose or tear a line: runspaces of one process and processes at once' {
        $path = Join-Path $TestDrive 'concurrent.csv'
        $assembly = [KdTools.Core.Sweeps.SweepLedger].Assembly.Location
        # Long cells make a torn or interleaved write show; 3 processes and 3 runspaces of this one, 40 lines each.
        $writer = {
            param($assembly, $path, $writer)
            Add-Type -Path $assembly
            $ledger = [KdTools.Core.Sweeps.SweepLedger]::new($path)
            $filler = [string]::new([char](65 + $writer), 3000)
            for ($i = 0; $i -lt 40; $i++) {
                $ledger.Append([KdTools.Core.Sweeps.SweepEntry]@{
                    Key = "w$writer-$i"; Status = 'Failed'; Error = "$filler,`"quoted`"`n$i"; ErrorId = "w$writer"
                })
            }
        }
        $writerFile = Join-Path $TestDrive 'writer.ps1'
        Set-Content $writerFile $writer.ToString()
        $processes = 0..2 | ForEach-Object {
            Start-Process $pwsh -ArgumentList ($pwshArgs + '-NoProfile', '-NonInteractive', '-File', $writerFile, $assembly, $path, $_) -PassThru
        }
        $writerText = $writer.ToString()
        3..5 | ForEach-Object -ThrottleLimit 3 -Parallel { & ([scriptblock]::Create($using:writerText)) $using:assembly $using:path $_ }
        $processes | ForEach-Object { $_.WaitForExit(); $_.ExitCode | Should -Be 0 }
        $entries = [KdTools.Core.Sweeps.SweepLedger]::new($path).Read()
        $entries | Should -HaveCount 240
        foreach ($w in 0..5) {
            $mine = @($entries | Where-Object ErrorId -eq "w$w")
            $mine.Key | Should -Be (0..39 | ForEach-Object { "w$w-$_" })
            $filler = [string]::new([char](65 + $w), 3000)
            for ($i = 0; $i -lt 40; $i++) { $mine[$i].Error | Should -BeExactly "$filler,`"quoted`"`n$i" }
        }
        (Import-Csv $path).Count | Should -Be 240
    }
}

Describe 'A run that came back from remoting' {
    BeforeAll {
        $run = [pscustomobject]@{ Method = 'KD'; Seed = 1; Epochs = 1 } |
            Invoke-Distillation @common -CheckpointDirectory (Join-Path $TestDrive 'remote-runs')
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($run))
        $copy | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'node1'
    }

    It 'keeps its flat properties' {
        $copy.PSObject.TypeNames[0] | Should -Be 'Deserialized.KdTools.KdRun'
        $copy.Top1 | Should -Be $run.Top1
        $copy.LossTerms | Should -Be $run.LossTerms
        $copy.Checkpoint | Should -Be $run.Checkpoint
    }

    It 'says how to fetch its network when a cmdlet needs it' {
        $copy | Measure-Student -Dataset $data -ErrorVariable notLocal -ErrorAction SilentlyContinue
        $notLocal[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Model.NotLocal*'
        $notLocal[0].Exception.Message | Should -BeLike '*New-PSSession -HostName node1*Copy-Item -FromSession*Import-KdModel*'
        { $copy | Invoke-Distillation -Student resnet8 -Dataset $data -Epochs 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'KdTools.Model.NotLocal*'
    }
}
