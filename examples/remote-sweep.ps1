#Requires -Version 7.6
<#
.SYNOPSIS
    A sweep split across machines with PowerShell remoting over SSH: every host runs its share of the plan against its
    own ledger, and the results come back merged into one CSV in plan order. Run it again to finish what failed.
.DESCRIPTION
    Opens one SSH session per -HostName (pwsh's SSH subsystem on each host), gives session i the plan rows i, i+n,
    i+2n, ... (n sessions), and runs all sessions at once with Invoke-Command -Session … -ThrottleLimit. On each host
    the share runs row by row through Invoke-Distillation -ResultPath <LedgerFolder>/sweep.csv: the ledger records
    each row as it starts (with its checkpoint, in <LedgerFolder>/sweep-checkpoints) and ends, so a rerun of this
    script with the same plan skips the rows that completed (their results come back from the ledger), resumes the
    rows whose run was killed from their checkpoints, and reruns failed rows. A resumed run ends bit-identical to an
    uninterrupted one.

    What comes back over remoting is each run's flat properties (deserialised KdRun objects: every column Export-Csv
    writes survives, bit for bit); the networks stay on the hosts, in their checkpoints. A KdTools cmdlet given such an
    object fails with KdTools.Model.NotLocal and says how to fetch the file (Copy-Item -FromSession, then
    Import-KdModel).

    When a host fails (its pwsh or the machine dies, a row fails), the script still writes the rows that finished,
    reports each row that did not (a warning per row with the host's ledger entry: Started with its checkpoint when the
    run was killed, Failed with its error id) and returns the merged rows. Rerun it to finish them.

    Each host needs: PowerShell 7.6 with the SSH subsystem in sshd_config (Subsystem powershell /usr/bin/pwsh -sshs
    -NoLogo), KdTools at -ModulePath, the dataset and the teacher file at the paths given. -LedgerFolder is a folder on
    each host; on a folder all hosts share (NFS v4, a cluster file system) they append to one ledger, under its lock.
    Keep -HostName's list for a rerun unless the folder is shared: a host sees only its own ledger.
.EXAMPLE
    ./remote-sweep.ps1 -HostName node1, node2 -PlanPath plan.csv -LedgerFolder /scratch/kd/sweep1 `
        -DatasetPath /data/cifar-100-binary -TeacherPath /models/resnet56.safetensors -Student resnet20 -OutputPath sweep.csv

    The plan's rows split over two hosts; sweep.csv holds every row's run in plan order. Run the same line again after
    a failure: finished rows are not run again.
.EXAMPLE
    ./remote-sweep.ps1 -HostName 127.0.0.1 -Port 2222 -KeyFilePath ./id_ed25519 -SshOption @{ StrictHostKeyChecking = 'no' } `
        -PlanPath plan.csv -LedgerFolder /tmp/kd-ledger -Synthetic @{ Classes = 3 } -TeacherPath teacher.safetensors

    A host on another port with its own key (how tests/pester/RemoteSweep.Tests.ps1 runs it against an sshd it starts).
#>
param(
    # The hosts (as ssh reaches them; a name may repeat to open several sessions on one host).
    [Parameter(Mandatory)] [string[]] $HostName,
    # The plan: a CSV with one run per row (Student, Method, Options, Epochs, Seed, ... as Invoke-Distillation reads them).
    [Parameter(Mandatory)] [string] $PlanPath,
    # On every host: where its ledger (sweep.csv) and the runs' checkpoints (sweep-checkpoints/) go.
    [Parameter(Mandatory)] [string] $LedgerFolder,
    # On every host: the teacher's checkpoint (Save-KdModel's file).
    [Parameter(Mandatory)] [string] $TeacherPath,
    # On every host: the dataset folder; or -Synthetic.
    [string] $DatasetPath,
    # Get-KdDataset -Synthetic's parameters, the same on every host (a seeded synthetic set is the same everywhere).
    [hashtable] $Synthetic,
    # The student architecture, where the plan has no Student column.
    [string] $Student = 'resnet8',
    # Where the merged results go (on this machine).
    [string] $OutputPath = (Join-Path $PWD 'remote-sweep.csv'),
    # On every host: KdTools' manifest, or the module's name when it is in the host's PSModulePath.
    [string] $ModulePath = 'KdTools',
    [int] $Port = 22,
    [string] $UserName = [Environment]::UserName,
    [string] $KeyFilePath,
    # ssh options (-o), e.g. @{ StrictHostKeyChecking = 'no' }.
    [hashtable] $SshOption,
    # Sessions that run at once.
    [int] $ThrottleLimit = 32,
    # libtorch threads per run: the same everywhere keeps results comparable bit for bit.
    [int] $Threads = 1,
    [int] $BatchSize = 64
)
$ErrorActionPreference = 'Stop'
if (-not $DatasetPath -and -not $Synthetic) { throw 'give -DatasetPath (a dataset folder on every host) or -Synthetic @{ ... }' }

$plan = @(Import-Csv $PlanPath)
for ($i = 0; $i -lt $plan.Count; $i++) { $plan[$i] | Add-Member -NotePropertyName Row -NotePropertyValue ($i + 1) -Force }

$connection = @{ Port = $Port; UserName = $UserName }
if ($KeyFilePath) { $connection.KeyFilePath = (Resolve-Path $KeyFilePath).Path }
if ($SshOption) { $connection.Options = $SshOption }
$sessions = @(foreach ($h in $HostName) { New-PSSession -HostName $h @connection })
try {
    # Session i runs rows i, i+n, ...: tell each which share is its own.
    $shares = $sessions.Count
    for ($i = 0; $i -lt $shares; $i++) {
        Invoke-Command -Session $sessions[$i] -ScriptBlock { $global:KdSweepShare = $using:i; $global:KdSweepShares = $using:shares }
    }
    $settings = @{
        Plan = $plan; LedgerFolder = $LedgerFolder; TeacherPath = $TeacherPath; DatasetPath = $DatasetPath
        Synthetic = $Synthetic; Student = $Student; ModulePath = $ModulePath; Threads = $Threads; BatchSize = $BatchSize
    }
    $runs = Invoke-Command -Session $sessions -ThrottleLimit $ThrottleLimit -ErrorAction Continue -ErrorVariable hostErrors -ScriptBlock {
        param($s)
        $ErrorActionPreference = 'Stop'
        Import-Module $s.ModulePath
        $data = if ($s.DatasetPath) { Get-KdDataset -Path $s.DatasetPath } else { $synthetic = $s.Synthetic; Get-KdDataset -Synthetic @synthetic }
        $teacher = Import-KdModel $s.TeacherPath
        $ledger = Join-Path $s.LedgerFolder 'sweep.csv'
        foreach ($row in $s.Plan | Where-Object { ($_.Row - 1) % $global:KdSweepShares -eq $global:KdSweepShare }) {
            # A failing row is reported (non-terminating) and recorded in the ledger; the share goes on.
            $row | Invoke-Distillation -Teacher $teacher -Dataset $data -Student $s.Student -Threads $s.Threads `
                -BatchSize $s.BatchSize -ResultPath $ledger -ErrorAction Continue |
                Add-Member -NotePropertyName Row -NotePropertyValue $row.Row -PassThru
        }
    } -ArgumentList $settings

    $runs = @($runs | Sort-Object Row)
    $columns = @('Row') + @($runs | Select-Object -First 1 | ForEach-Object {
            $_.PSObject.Properties.Name | Where-Object { $_ -notin 'Row', 'PSComputerName', 'RunspaceId', 'PSShowComputerName' } })
    $runs | Select-Object $columns | Export-Csv $OutputPath -NoTypeInformation

    # The rows that did not come back: what their host's ledger says about them (Started = killed, with the checkpoint
    # a rerun resumes from; Failed = the error).
    $finished = @($runs.Row)
    $missing = @($plan | Where-Object Row -notin $finished)
    if ($missing.Count -gt 0) {
        $reachable = @($sessions | Where-Object State -eq Opened)
        $fresh = @(foreach ($s in $sessions | Where-Object State -ne Opened) {
                try { New-PSSession -HostName $s.ComputerName @connection } catch { Write-Warning "$($s.ComputerName): cannot reach the host again ($_)" }
            })
        $unfinished = if ($reachable.Count + $fresh.Count) {
            Invoke-Command -Session ($reachable + $fresh) -ErrorAction Continue -ScriptBlock {
                param($folder, $module)
                Import-Module $module
                $path = Join-Path $folder 'sweep.csv'
                if (Test-Path $path) { [KdTools.Core.Sweeps.SweepLedger]::new($path).Latest() | Where-Object Status -ne 'Completed' }
            } -ArgumentList $LedgerFolder, $ModulePath | Sort-Object Key -Unique
        }
        $fresh | Remove-PSSession
        foreach ($entry in $unfinished) {
            $where = if ($entry.Checkpoint) { ", checkpoint $($entry.Checkpoint)" } else { '' }
            $why = if ($entry.ErrorId) { " ($($entry.ErrorId): $($entry.Error))" } else { '' }
            Write-Warning "unfinished on $($entry.PSComputerName) (process $($entry.Process)): $($entry.Status)$why$where; row $($entry.Key)"
        }
        Write-Warning ("rows {0} of {1} did not finish; run the same command again to resume them" -f ($missing.Row -join ', '), $plan.Count)
    }
    $runs
}
finally {
    $sessions | Remove-PSSession
}
