# Second hosts for the sweep tests, on this machine only: an sshd on the loopback with pwsh's SSH subsystem, and the
# command line of the pwsh running the tests (the build's pwsh is a .NET tool: dotnet pwsh.dll).

function Get-PwshCommand {
    # The executable and leading arguments that start this same pwsh.
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { , @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    else { , @($process) }
}

function Get-FreeLoopbackPort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Start-LoopbackSshd {
    <#
    .SYNOPSIS
        Starts /usr/sbin/sshd on 127.0.0.1 at a free port with its own host key, config and one generated client key
        (key-only, this user), and pwsh's SSH subsystem through a wrapper that records each session's pwsh process id.
        Returns what a client needs and what Stop-LoopbackSshd stops.
    #>
    param([Parameter(Mandatory)] [string] $Folder)
    $null = New-Item -ItemType Directory -Force $Folder
    foreach ($key in 'host_key', 'client_key') {
        & ssh-keygen -q -t ed25519 -N '' -C "kdtools-test-$key" -f (Join-Path $Folder $key)
        if ($LASTEXITCODE) { throw "ssh-keygen failed for $key" }
    }
    Copy-Item (Join-Path $Folder 'client_key.pub') (Join-Path $Folder 'authorized_keys')
    $pids = Join-Path $Folder 'session-pids'
    $pwsh = Get-PwshCommand
    $quoted = ($pwsh | ForEach-Object { "'" + $_.Replace("'", "'\''") + "'" }) -join ' '
    $wrapper = Join-Path $Folder 'pwsh-subsystem'
    # sshd runs a subsystem through the user's shell; exec keeps the id the wrapper wrote.
    Set-Content $wrapper "#!/bin/sh`necho `$`$ >> '$pids'`nexec $quoted `"`$@`"`n"
    & chmod 755 $wrapper
    $port = Get-FreeLoopbackPort
    $config = Join-Path $Folder 'sshd_config'
    Set-Content $config @"
Port $port
ListenAddress 127.0.0.1
HostKey $Folder/host_key
PidFile $Folder/sshd.pid
AuthorizedKeysFile $Folder/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $([Environment]::UserName)
StrictModes no
UsePAM no
Subsystem powershell $wrapper -sshs -NoLogo
"@
    # Privilege separation needs its empty directory (a service install creates it; the test starts sshd directly).
    if (-not (Test-Path /run/sshd)) { $null = New-Item -ItemType Directory /run/sshd }
    $log = Join-Path $Folder 'sshd.log'
    $process = Start-Process /usr/sbin/sshd -ArgumentList '-D', '-e', '-f', $config -RedirectStandardError $log -PassThru
    $deadline = (Get-Date).AddSeconds(20)
    while ((Get-Date) -lt $deadline) {
        $client = [Net.Sockets.TcpClient]::new()
        try { $client.Connect('127.0.0.1', $port); break } catch { Start-Sleep -Milliseconds 100 } finally { $client.Dispose() }
        if ($process.HasExited) { throw "sshd exited: $(Get-Content $log -Raw)" }
    }
    [pscustomobject]@{
        Process = $process; Port = $port; KeyFilePath = (Join-Path $Folder 'client_key'); SessionPids = $pids; Log = $log
        Options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
    }
}

function Stop-LoopbackSshd {
    param([Parameter(Mandatory)] $Sshd)
    # The sessions' pwsh processes this sshd started, then sshd itself: by id, nothing else.
    if (Test-Path $Sshd.SessionPids) {
        foreach ($id in Get-Content $Sshd.SessionPids) { Get-Process -Id $id -ErrorAction SilentlyContinue | Stop-Process -Force }
    }
    if (-not $Sshd.Process.HasExited) { $Sshd.Process.Kill($true); $Sshd.Process.WaitForExit() }
}

function Start-SlurmCluster {
    <#
    .SYNOPSIS
        Starts a single-node Slurm cluster of this machine from Debian's slurm-wlm and munge: munged with a generated key
        and its own socket, slurmctld and slurmd with a slurm.conf generated in -Folder (NodeName=localhost with this
        machine's CPUs and memory as slurmd -C reports them; every daemon on 127.0.0.1 only, at free ports; state, spool,
        logs and pid files in -Folder). Sets SLURM_CONF for this process so sbatch, squeue and scontrol reach it.
    #>
    param([Parameter(Mandatory)] [string] $Folder)
    $Folder = (New-Item -ItemType Directory -Force $Folder).FullName
    foreach ($sub in 'munge-key', 'munge', 'state', 'spool') { $null = New-Item -ItemType Directory -Force (Join-Path $Folder $sub) }
    & chmod 700 (Join-Path $Folder 'munge-key')
    $key = Join-Path $Folder 'munge-key' 'munge.key'
    [IO.File]::WriteAllBytes($key, [Security.Cryptography.RandomNumberGenerator]::GetBytes(1024))
    & chmod 400 $key
    $socket = Join-Path $Folder 'munge' 'munge.socket'
    # munged daemonises and writes its pid file; --force lets it run as root.
    & /usr/sbin/munged --force --key-file=$key --socket=$socket --pid-file=$(Join-Path $Folder 'munge' 'munged.pid') `
        --log-file=$(Join-Path $Folder 'munge' 'munged.log') --seed-file=$(Join-Path $Folder 'munge' 'munged.seed')
    if ($LASTEXITCODE) { throw "munged failed to start: $(Get-Content (Join-Path $Folder 'munge' 'munged.log') -Raw)" }
    $node = (& /usr/sbin/slurmd -C | Select-Object -First 1) -replace '^NodeName=\S+', 'NodeName=localhost NodeAddr=127.0.0.1'
    $hostName = (& hostname -s).Trim()
    $user = [Environment]::UserName
    $config = Join-Path $Folder 'slurm.conf'
    Set-Content $config @"
ClusterName=kdtools-test
SlurmctldHost=$hostName(127.0.0.1)
SlurmctldPort=$(Get-FreeLoopbackPort)
SlurmdPort=$(Get-FreeLoopbackPort)
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmUser=$user
SlurmdUser=root
StateSaveLocation=$Folder/state
SlurmdSpoolDir=$Folder/spool
SlurmctldPidFile=$Folder/slurmctld.pid
SlurmdPidFile=$Folder/slurmd.pid
SlurmctldLogFile=$Folder/slurmctld.log
SlurmdLogFile=$Folder/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
$node State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"@
    $env:SLURM_CONF = $config
    # Both daemonise and write their pid files; -i: no state from an earlier cluster.
    & /usr/sbin/slurmctld -i -f $config
    if ($LASTEXITCODE) { throw "slurmctld failed to start: $(Get-Content (Join-Path $Folder 'slurmctld.log') -Raw)" }
    & /usr/sbin/slurmd -N localhost -f $config
    if ($LASTEXITCODE) { throw "slurmd failed to start: $(Get-Content (Join-Path $Folder 'slurmd.log') -Raw)" }
    $deadline = (Get-Date).AddSeconds(60)
    while ((& sinfo -h -n localhost -o '%t' 2>$null) -notmatch '^idle' ) {
        if ((Get-Date) -gt $deadline) { throw "the Slurm node did not come up: $(& sinfo 2>&1)`n$(Get-Content (Join-Path $Folder 'slurmctld.log') -Raw)" }
        Start-Sleep -Milliseconds 200
    }
    [pscustomobject]@{ Folder = $Folder; Config = $config }
}

function Stop-SlurmCluster {
    param([Parameter(Mandatory)] $Cluster)
    # The daemons this cluster started, by the ids in their pid files.
    foreach ($file in 'slurmd.pid', 'slurmctld.pid', (Join-Path 'munge' 'munged.pid')) {
        $path = Join-Path $Cluster.Folder $file
        if (-not (Test-Path $path)) { continue }
        $process = Get-Process -Id ([int](Get-Content $path -First 1)) -ErrorAction SilentlyContinue
        if ($process) { $process | Stop-Process -Force; $process.WaitForExit(10000) | Out-Null }
    }
    Remove-Item Env:SLURM_CONF -ErrorAction SilentlyContinue
}

function Wait-SlurmJob {
    param([Parameter(Mandatory)] [string] $JobId, [int] $TimeoutSeconds = 300)
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while (@(& squeue -h -j $JobId -o '%i' 2>$null).Count -gt 0) {
        if ((Get-Date) -gt $deadline) { throw "Slurm job $JobId still queued or running after $TimeoutSeconds s: $(& squeue -j $JobId 2>&1)" }
        Start-Sleep -Milliseconds 250
    }
}

Export-ModuleMember -Function Get-PwshCommand, Get-FreeLoopbackPort, Start-LoopbackSshd, Stop-LoopbackSshd, Start-SlurmCluster, Stop-SlurmCluster, Wait-SlurmJob
