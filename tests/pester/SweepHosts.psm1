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

Export-ModuleMember -Function Get-PwshCommand, Get-FreeLoopbackPort, Start-LoopbackSshd, Stop-LoopbackSshd
