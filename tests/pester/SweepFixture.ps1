# The shared fixture of the cross-machine sweep tests, dot-sourced into their BeforeAll after KdTools is imported.
# Sets $synthetic (the dataset's parameters, which the hosts rebuild the same data from), $data, $teacherFile (a 1-epoch
# resnet8 teacher), $planPath (a 4-row plan: one long KD row, so a host can be killed in the middle of it, and three
# short ones) and $local (the same plan run here, uninterrupted, with its own ledger): the results the hosts must equal.
    $synthetic = @{ Classes = 3; TrainCount = 48; TestCount = 24; ImageSize = 8; Seed = 1 }
    $data = Get-KdDataset -Synthetic @synthetic
    $teacherFile = Join-Path $TestDrive 'teacher.safetensors'
    New-Teacher resnet8 -Dataset $data -Epochs 1 -BatchSize 16 -Threads 1 | Save-KdModel -Path $teacherFile
    $planPath = Join-Path $TestDrive 'plan.csv'
    @(
        [pscustomobject]@{ Method = 'KD'; Seed = 1; Epochs = 16; Options = 'Temperature=2' }
        [pscustomobject]@{ Method = 'CE'; Seed = 1; Epochs = 2; Options = '' }
        [pscustomobject]@{ Method = 'KD'; Seed = 2; Epochs = 2; Options = '' }
        [pscustomobject]@{ Method = 'KD'; Seed = 3; Epochs = 2; Options = 'Alpha=0.5' }
    ) | Export-Csv $planPath
    $local = Import-Csv $planPath |
        Invoke-Distillation -Teacher (Import-KdModel $teacherFile) -Dataset $data -Student resnet8 -BatchSize 16 -Threads 1 `
            -ResultPath (Join-Path $TestDrive 'local' 'sweep.csv')
