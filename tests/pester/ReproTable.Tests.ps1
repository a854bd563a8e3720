# The reproduction table (docs/reproduction.md) is rendered from the runs' JSON by tools/repro/Write-ReproTable.ps1:
# mean ± sd per framework, the difference, the within-noise verdict, and the defaults matrix's 80 %-of-CE rule.
BeforeAll {
    $script = Join-Path $PSScriptRoot '..' '..' 'tools' 'repro' 'Write-ReproTable.ps1'
    function Write-Run([string] $part, [string] $method, [string] $framework, [int] $seed, $top1, [string] $student = 'resnet8', [string] $error) {
        $folder = Join-Path $TestDrive 'runs' $part
        New-Item -ItemType Directory -Force $folder | Out-Null
        [ordered]@{
            method = $method; seed = $seed; framework = $framework; student = $student; teacher = 'resnet20'; epochs = 8
            init_epochs = 0; train_images = 5000; test_images = 10000; wall_seconds = 100 + $seed; top1 = $top1; error = $error
            commit = 'abc1234'; date = '2026-12-07T17:00:00Z'; machine = 'box, 2 cores, CPU'
        } | ConvertTo-Json | Set-Content (Join-Path $folder "$method.$student.$framework.seed$seed.json")
    }
    @{ method = 'teacher'; student = 'resnet20'; epochs = 30; top1 = 0.7512; sha256 = 'ff00'; machine = 'box, 2 cores, CPU'; date = '2026-12-07T16:00:00Z'; commit = 'abc1234' } |
        ConvertTo-Json | Set-Content (Join-Path (New-Item -ItemType Directory -Force (Join-Path $TestDrive 'runs')).FullName 'teacher.json')
    # KD: 51 ± 1.41 against 52 ± 1.41; AT: 41 ± 1.41 against 51 ± 1.41. Pooled sd 1.41 on both sides, so the noise of
    # a difference of two 2-seed means is 2·√(2/2 + 2/2) = 2.83 points.
    Write-Run official KD KdTools 1 0.50; Write-Run official KD KdTools 2 0.52
    Write-Run official KD official 1 0.51; Write-Run official KD official 2 0.53
    Write-Run official AT KdTools 1 0.40; Write-Run official AT KdTools 2 0.42
    Write-Run official AT official 1 0.50; Write-Run official AT official 2 0.52
    Write-Run official DIH KdTools 1 0.50; Write-Run official DIH KdTools 2 0.52
    Write-Run official DIH official 1 0.51; Write-Run official DIH official 2 0.53
    Write-Run official CC KdTools 1 0.45
    Write-Run official DKD official 1 0.55
    Write-Run official KDSVD KdTools 1 0.47
    Write-Run official KDSVD official 1 $null -error 'official code failed in epoch 2: _LinAlgError: linalg.svd: (Batch element 0): The algorithm failed to converge because the input matrix contained non-finite values.'
    Write-Run defaults CE KdTools 1 0.60; Write-Run defaults KD KdTools 1 0.62; Write-Run defaults DKD KdTools 1 0.40
    Write-Run defaults FT KdTools 1 $null -error 'KdTools.Training.Diverged: the paraphraser diverged'
    $out = Join-Path $TestDrive 'reproduction.md'
    & $script -Path (Join-Path $TestDrive 'runs') -OutFile $out
    $text = Get-Content -Raw $out
    $rows = Get-Content $out
}

Describe 'Write-ReproTable.ps1' {
    It 'shows each framework''s mean ± sd, the difference and the noise, and a difference within it' {
        $rows | Should -Contain '| KD | resnet8 | 51.00 ± 1.41 (2) | 52.00 ± 1.41 (2) | -1.00 | 2.83 | yes | 102 | 102 |'
    }

    It 'flags a difference outside the seed noise as a defect' {
        $rows | Should -Contain '| AT | resnet8 | 41.00 ± 1.41 (2) | 51.00 ± 1.41 (2) | -10.00 | 2.83 | **DEFECT**: no | 102 | 102 |'
    }

    It 'shows a cell that one side has not run yet as pending, and lists what is incomplete or missing' {
        $rows | Should -Contain '| CC | resnet8 | 45.00 (1 seed) | not run | n/a | 4.00 | pending | 101 | n/a |'
        $rows | Should -Contain 'Incomplete (fewer than 2 seeds on a side): CC, KDSVD, DKD.'
        $rows | Should -Contain '| DKD | resnet8 | not run | 55.00 (1 seed) | n/a | 4.00 | pending | n/a | 101 |'
        $text | Should -Match 'Not run yet: CE, FitNet, SP, VID, RKD, PKT, AB, FT, FSP, NST, CRD, TAKD, KDSVD-mdistiller, ReviewKD, OFD, DIST, TOFD '
        $text | Should -Match 'No official code is run for MHKD, BYOT yet'
        $text | Should -Match 'MHKD/middle_header_generator_mhkd\.py'
        $text | Should -Match 'ArchipLab-LinfengZhang/pytorch-self-distillation-final'
    }

    It 'says which official code each row uses, and describes only the codes and deviations of rows it has' {
        $text | Should -Match '\*\*Official side, RepDistiller\*\* \(rows KD, AT, CC, KDSVD\): `tools/repro/official_train\.py`'
        $text | Should -Match '\*\*Official side, mdistiller\*\* \(rows DKD\): `tools/repro/official_mdistiller\.py`'
        $text | Should -Match 'DKD `configs/cifar100/dkd/res56_res20\.yaml` \(CE 1, α 1, β 2, T 4'
        $text | Should -Not -Match 'Official side, the authors'' DIST'
        $rows | Should -Contain '| DIH | resnet8 | 51.00 ± 1.41 (2) | 52.00 ± 1.41 (2) | -1.00 | 2.83 | yes | 102 | 102 |'
        $text | Should -Match '\*\*Official side, the authors'' DIH\*\* \(row DIH\): `tools/repro/official_dih\.py`'
        $text | Should -Match 'CIFAR''s \*\*test\*\* split'
        $text | Should -Not -Match 'Official side, TOFD'
        $text | Should -Match 'KDSVD differs from RepDistiller by design'
        $text | Should -Match 'KDSVD''s weight β 1 is mdistiller''s'
        $text | Should -Not -Match 'TAKD is the KD run twice'
    }

    It 'shows an official run that failed as the official code''s failure, with its error, not as a KdTools defect' {
        $rows | Should -Contain '| KDSVD | resnet8 | 47.00 (1 seed) | failed | n/a | 4.00 | no: the official code failed (below) | 101 | 101 |'
        $rows | Should -Contain '- KDSVD → resnet8, official, seed 1: official code failed in epoch 2: _LinAlgError: linalg.svd: (Batch element 0): The algorithm failed to converge because the input matrix contained non-finite values.'
    }

    It 'states the pooled sd, the data and the teacher it read' {
        $text | Should -Match 'KdTools 1\.41, official 1\.41 points'
        $text | Should -Match 'the first 500 training images of each class \(5,000 in all'
        $text | Should -Match 'top-1 75\.12 %'
        $text | Should -Match '8 epochs per student'
    }

    It 'puts each default cell next to CE and flags one below 80 % of CE or a failed run' {
        $rows | Should -Contain '| CE | 60.00 (1 seed) | 100 % | ok |'
        $rows | Should -Contain '| KD | 62.00 (1 seed) | 103 % | ok |'
        $rows | Should -Contain '| DKD | 40.00 (1 seed) | 67 % | **DEFECT**: resnet8 below 80 % of CE |'
        $rows | Should -Contain '| FT | failed | n/a | **DEFECT**: resnet8 failed: KdTools.Training.Diverged: the paraphraser diverged |'
    }
}
