# Acceptance (issue 12): a run is never lost and never silently wrong, as a user's session sees it. A stop
# ([powershell]::Stop(), what Ctrl+C does) that lands inside one of the cmdlet's progress writes still saves a resumable
# checkpoint and names it; the resumed run ends where the uninterrupted one does, bit for bit. Runs in
# ForEach-Object -Parallel give the bits they give alone. A checkpoint folder on a read-only or full file system (a
# tmpfs, mounted when the tests run as root) is refused before training, or costs the checkpoint but not the run.
BeforeDiscovery {
    # Root writes through permission bits, so read-only and full folders need a file system of their own (a tmpfs).
    $canMount = (& id -u) -eq '0' -and [bool](Get-Command mount -ErrorAction Ignore)
}

BeforeAll {
    $module = (Resolve-Path (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1')).Path
    Import-Module $module -Force
    $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 64 -TestCount 32 -ImageSize 16 -Seed 1
    $common = @{ Student = 'resnet8'; BatchSize = 16; LearningRate = 0.01; Threads = 2 }

    # The network's tensor bytes of a model file (after the safetensors header), hashed: equal hashes are equal weights.
    function Get-WeightHash([string] $Path) {
        $bytes = [System.IO.File]::ReadAllBytes($Path)
        $headerLength = [System.BitConverter]::ToInt64($bytes, 0)
        $body = [byte[]]::new($bytes.Length - 8 - $headerLength)
        [System.Array]::Copy($bytes, 8 + $headerLength, $body, 0, $body.Length)
        [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($body))
    }

    # A checkpoint's run position (epoch, next batch, stage) from its metadata.
    function Get-RunPosition([string] $Path) {
        $stream = [System.IO.File]::OpenRead($Path)
        try {
            $reader = [System.IO.BinaryReader]::new($stream)
            $header = [System.Text.Encoding]::UTF8.GetString($reader.ReadBytes([int] $reader.ReadInt64()))
        } finally { $stream.Dispose() }
        ($header | ConvertFrom-Json).__metadata__.run | ConvertFrom-Json
    }
}

Describe 'A stop that lands inside a progress write' {
    BeforeAll {
        Add-Type -TypeDefinition @'
using System.Management.Automation;
using System.Threading;

public static class KdTestStopper
{
    /// The status of the epoch record whose write the stop landed in ("train epoch 2/3").
    public static string StoppedAt;

    /// Stops the pipeline from inside the cmdlet's write of its epoch progress record number `record`: the handler runs
    /// on the pipeline thread within WriteProgress and returns only once PowerShell is stopping, so the same report's
    /// batch record (written next) meets the stop and throws PipelineStoppedException inside the training loop.
    public static void StopInsideProgressWrite(PowerShell ps, int record)
    {
        int seen = 0;
        ps.Streams.Progress.DataAdded += (_, e) =>
        {
            var progress = ps.Streams.Progress[e.Index];
            if (progress.ParentActivityId != -1 || Interlocked.Increment(ref seen) != record) return;
            StoppedAt = progress.StatusDescription;
            ps.BeginStop(null, null);
            while (ps.InvocationStateInfo.State == PSInvocationState.Running) Thread.Sleep(1);
            Thread.Sleep(500); // the stopper thread marks the pipeline stopping right after the state change
        };
    }
}
'@
        $folder = Join-Path $TestDrive 'stopped'
        $run = "-Method CE -Epochs 3 -BatchSize 16 -LearningRate 0.01 -Threads 2 -CheckpointDirectory '$folder'"
        $ps = [powershell]::Create()
        $null = $ps.AddScript(@"
Import-Module '$module'
`$data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 64 -TestCount 32 -ImageSize 16 -Seed 1
Invoke-Distillation -Student resnet8 -Dataset `$data $run
"@)
        # 4 batches per epoch; epoch-end records are never throttled, so the 2nd epoch record is in epoch 1 or 2.
        [KdTestStopper]::StopInsideProgressWrite($ps, 2)
        try { $null = $ps.Invoke() } catch [System.Management.Automation.MethodInvocationException], [System.Management.Automation.PipelineStoppedException] { }
        $state = $ps.InvocationStateInfo.State
        $warnings = @($ps.Streams.Warning | ForEach-Object Message)
        $ps.Dispose()
        $checkpoint = @(Get-ChildItem $folder -Filter 'CE-resnet8-seed1-*-last.safetensors')
    }

    It 'stops the pipeline and leaves one resumable checkpoint of the stop''s position' {
        $state | Should -Be 'Stopped'
        $checkpoint | Should -HaveCount 1
        $position = Get-RunPosition $checkpoint[0].FullName
        $position.stage | Should -Be 'train'
        $position.finished | Should -BeFalse
        # Past the checkpoint of the epoch before the stop's: a stop that escaped the loop through the write left that one.
        [KdTestStopper]::StoppedAt -match '^train epoch (\d)/3$' | Should -BeTrue -Because "the stop's record says '$([KdTestStopper]::StoppedAt)'"
        $stoppedInEpoch = [int] $Matches[1]
        ($position.epoch * 4 + $position.nextBatch) | Should -BeGreaterThan (($stoppedInEpoch - 1) * 4)
    }

    It 'names the checkpoint in a warning that reaches the caller' {
        $warnings | Should -HaveCount 1
        $warnings[0] | Should -BeLike "Stopped; the run's resumable checkpoint is '$($checkpoint[0].FullName)'*-Resume*"
    }

    It 'keeps a new run of the same configuration from starting over it unless -Force' {
        { Invoke-Distillation -Dataset $data -Method CE -Epochs 3 -CheckpointDirectory $folder @common } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.Unfinished,*' -ExpectedMessage "*'$($checkpoint[0].FullName)'*"
    }

    It 'refuses a -Resume with other settings, listing each difference' {
        $refused = { Invoke-Distillation -Dataset $data -Method CE -Epochs 3 -Resume $checkpoint[0].FullName @common -Seed 2 -WeightDecay 0.001 } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.Mismatch,*' -PassThru
        $refused.Exception.Message | Should -BeLike '*seed: 1 in the checkpoint, 2 now*'
        $refused.Exception.Message | Should -BeLike '*weight decay: 0.0005 in the checkpoint, 0.001 now*'
        # New-Teacher resumes too (a teacher's run is CE on the labels, the same run as this one).
        { New-Teacher resnet8 -Dataset $data -Epochs 3 -Resume $checkpoint[0].FullName -BatchSize 16 -LearningRate 0.02 -Threads 2 } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.Mismatch,*' -ExpectedMessage '*learning rate: 0.01 in the checkpoint, 0.02 now*'
    }

    It 'resumes to the weights of the uninterrupted run, bit for bit' {
        $resumed = Invoke-Distillation -Dataset $data -Method CE -Epochs 3 -Resume $checkpoint[0].FullName @common
        # -Force: the same configuration, beside the stopped run's files (which the resume has just finished).
        $whole = Invoke-Distillation -Dataset $data -Method CE -Epochs 3 -CheckpointDirectory $folder -Force @common
        @(Get-ChildItem $folder -Filter '*-last.safetensors') | Should -HaveCount 2
        $resumed.History | Should -HaveCount 3
        $resumed.StudentModel | Save-KdModel (Join-Path $TestDrive 'resumed.safetensors')
        $whole.StudentModel | Save-KdModel (Join-Path $TestDrive 'whole.safetensors')
        Get-WeightHash (Join-Path $TestDrive 'resumed.safetensors') | Should -Be (Get-WeightHash (Join-Path $TestDrive 'whole.safetensors'))
        $resumed.Top1 | Should -Be $whole.Top1
    }
}

Describe 'Runs in ForEach-Object -Parallel' {
    It 'give the weights they give alone, one after another, for the same seed' {
        $teacher = Join-Path $TestDrive 'teacher.safetensors'
        New-Teacher resnet8 -Dataset $data -Epochs 1 -BatchSize 16 -Threads 2 | Save-KdModel $teacher
        $dataPath = Join-Path $TestDrive 'data'
        # Each runspace makes the same synthetic set; KD draws augmentation and shuffling, CRD its negatives and
        # modules, so every kind of draw of both runs interleaves.
        $jobs = @(
            @{ Name = 'KD-a'; Method = 'KD'; Options = @{} }
            @{ Name = 'CRD'; Method = 'CRD'; Options = @{ Negatives = 64 } }
            @{ Name = 'KD-b'; Method = 'KD'; Options = @{} }
        )
        $runOne = {
            param($job, $teacher, $module, $folder)
            Import-Module $module
            $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 64 -TestCount 32 -ImageSize 16 -Seed 1
            $run = Invoke-Distillation -Student resnet8 -Method $job.Method -MethodOption $job.Options -Teacher $teacher `
                -Dataset $data -Epochs 1 -BatchSize 16 -LearningRate 0.01 -Threads 2 -Seed 5
            $file = Join-Path $folder "$($job.Name).safetensors"
            $run.StudentModel | Save-KdModel $file -Force
            [pscustomobject]@{ Name = $job.Name; File = $file; TrainLoss = $run.TrainLoss }
        }
        $null = New-Item -ItemType Directory (Join-Path $dataPath 'alone'), (Join-Path $dataPath 'parallel')
        $alone = foreach ($job in $jobs[0..1]) { & $runOne $job $teacher $module (Join-Path $dataPath 'alone') }
        $definition = $runOne.ToString()
        $parallel = $jobs | ForEach-Object -ThrottleLimit 3 -Parallel {
            $runOne = [scriptblock]::Create($using:definition)
            & $runOne $_ $using:teacher $using:module (Join-Path $using:dataPath 'parallel')
        }
        $parallel | Should -HaveCount 3
        $expected = @{ 'KD-a' = $alone[0]; 'KD-b' = $alone[0]; 'CRD' = $alone[1] }
        foreach ($result in $parallel) {
            $reference = $expected[$result.Name]
            Get-WeightHash $result.File | Should -Be (Get-WeightHash $reference.File) -Because "$($result.Name) in parallel"
            $result.TrainLoss | Should -Be $reference.TrainLoss
        }
    }
}

Describe 'Option values' {
    It 'are taken exactly or refused naming the option, the value and the type, never rounded or read in a culture' {
        $base = @{ Dataset = $data; Epochs = 1; ErrorAction = 'Stop' } + $common
        { Invoke-Distillation -Method KD -Teacher (New-Student resnet8 -Dataset $data) -MethodOption @{ Temperature = '2,5' } @base } |
            Should -Throw -ErrorId 'KdTools.Method.OptionInvalid,*' -ExpectedMessage "*Temperature*'2,5'*"
        { Invoke-Distillation -Method FitNet -Teacher (New-Student resnet8 -Dataset $data) -MethodOption @{ HintEpochs = 0.5 } @base } |
            Should -Throw -ErrorId 'KdTools.Method.OptionInvalid,*' -ExpectedMessage '*HintEpochs*0.5*'
    }
}

Describe 'A checkpoint folder on a file system that refuses writes' {
    BeforeAll {
        $mounts = [System.Collections.Generic.List[string]]::new()
        function Mount-Tmpfs([string] $Options) {
            $point = Join-Path $TestDrive "tmpfs$($mounts.Count)"
            $null = New-Item -ItemType Directory $point
            & mount -t tmpfs -o $Options tmpfs $point
            if ($LASTEXITCODE -ne 0) { throw "mount -t tmpfs -o $Options failed ($LASTEXITCODE)" }
            $mounts.Add($point)
            $point
        }
    }

    AfterAll {
        foreach ($point in $mounts) { & umount $point }
    }

    It 'read-only: refuses the run before training, naming the folder' -Skip:(-not $canMount) {
        $folder = Mount-Tmpfs 'ro,size=1m'
        $failed = { Invoke-Distillation -Dataset $data -Method CE -Epochs 1 -CheckpointDirectory $folder @common } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.WriteFailed,*' -ExpectedMessage "*'$folder/*'*Read-only file system*" -PassThru
        $failed.CategoryInfo.Category | Should -Be 'WriteError'
        $failed.Exception.Message | Should -Not -BeLike '*.tmp*' -Because 'the hidden temp file is not what the user asked for'
    }

    It 'full from the start: refuses the run before training' -Skip:(-not $canMount) {
        $folder = Mount-Tmpfs 'size=64k'
        $failed = { Invoke-Distillation -Dataset $data -Method CE -Epochs 1 -CheckpointDirectory $folder @common } |
            Should -Throw -ErrorId 'KdTools.Checkpoint.WriteFailed,*' -ExpectedMessage "*'$folder/*'*No space left on device*" -PassThru
        $failed.CategoryInfo.Category | Should -Be 'WriteError'
        @(Get-ChildItem -Force $folder) | Should -HaveCount 0 -Because 'a failed write leaves no partial file'
    }

    It 'full after the first checkpoint: the run completes, returns its student and reports the failed write' -Skip:(-not $canMount) {
        # Room for the checkpoint written before the first step, not for the epoch's atomic rewrite beside it.
        $probe = Join-Path $TestDrive 'probe'
        $null = Invoke-Distillation -Dataset $data -Method CE -Epochs 1 -CheckpointDirectory $probe @common
        $size = (Get-ChildItem $probe -Filter '*-last.safetensors').Length
        $folder = Mount-Tmpfs "size=$([long]($size * 1.5))"
        $run = Invoke-Distillation -Dataset $data -Method CE -Epochs 2 -CheckpointDirectory $folder @common -ErrorVariable failed -ErrorAction SilentlyContinue
        $run.History | Should -HaveCount 2
        $run.Top1 | Should -BeGreaterOrEqual 0
        $failed | Should -Not -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'KdTools.Checkpoint.WriteFailed,*'
        $failed[0].CategoryInfo.Category | Should -Be 'WriteError'
        $failed[0].Exception.Message | Should -BeLike "*$folder*training went on*"
        @(Get-ChildItem -Force $folder | Where-Object Name -NotLike '*.safetensors') | Should -HaveCount 0 -Because 'failed writes leave no temp files'
    }
}
