# The default views (module/KdTools.Format.ps1xml) read at 80 columns, rendered by the real Format-Table: every column
# a view defines is in the header (Format-Table silently drops the columns that do not fit), no line is wider than
# the console, nothing is cut off with an ellipsis, and the long text columns (summaries, descriptions) keep room.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 -Seed 1
    $teacher = New-Teacher -Architecture resnet8 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
    $run = $teacher | Invoke-Distillation -Student resnet8 -Method FitNet -MethodOption @{ HintEpochs = 1 } `
        -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2

    # The table as an 80-column console shows it: lines without trailing blanks, blank lines dropped.
    function Get-Table($objects) {
        ($objects | Format-Table | Out-String -Width 80) -split '\r?\n' | ForEach-Object TrimEnd | Where-Object { $_ }
    }
}

Describe 'The default table of <Type>' -ForEach @(
    # Key: properties whose every value shows whole (not cut, no word wrapped in two; a view may break a list such as
    # "crop4,flip" or "cat=0.8;dog=0.1" after a separator), so the longest registered name fits.
    @{ Type = 'KdMethodInfo'; Objects = { Get-KdMethod }; Columns = 'Name', 'Teacher', 'Summary'; Wide = 'Summary'; Key = 'Name' }
    @{ Type = 'KdMethodOptionInfo'; Objects = { Get-KdMethod -Option }; Columns = 'Method', 'Option', 'Default', 'Description'; Wide = 'Description'; Key = 'Method', 'Name' }
    @{ Type = 'KdArchitectureInfo'; Objects = { Get-KdArchitecture }; Columns = 'Name', 'Family', 'Heads', 'Description'; Wide = 'Description'; Key = 'Name' }
    @{ Type = 'KdRecipeInfo'; Objects = { Get-KdRecipe }; Columns = 'Name', 'Epochs', 'LR', 'Nesterov', 'Batch', 'Schedule', 'Augmentation'; Key = 'Name', 'Schedule', 'Augmentation' }
    @{ Type = 'KdDatasetInfo'; Objects = { $data }; Columns = 'Name', 'Classes', 'TrainCount', 'TestCount', 'Size', 'Source' }
    @{ Type = 'KdModel'; Objects = { $teacher; New-Student deeplabv3_resnet50_w16 -Classes 4 }; Columns = 'Role', 'Architecture', 'Classes', 'Parameters', 'TrainedWith', 'Epochs', 'Top1'; Key = 'Architecture' }
    @{ Type = 'KdRun'; Objects = { $run }; Columns = 'Method', 'Teacher', 'Student', 'Epochs', 'Top1', 'BestTop1', 'BestEpoch', 'Seconds' }
    @{ Type = 'KdEpoch'; Objects = { $run | Get-KdHistory }; Columns = 'Method', 'Stage', 'Epoch', 'LearningRate', 'TrainLoss', 'TrainTop1', 'TestLoss', 'TestTop1'; Key = 'Stage' }
    @{ Type = 'KdMeasurement'; Objects = { $run | Measure-Student -Dataset $data }; Columns = 'Model', 'Method', 'Exit', 'Top1', 'Top5', 'Loss', 'Agree', 'Parameters', 'ms/img' }
    @{ Type = 'KdSegmentationMeasurement'; Objects = { $segmentation = Get-KdDataset -Synthetic -Task Segmentation -Classes 3 -TrainCount 8 -TestCount 4 -ImageSize 32; New-Student deeplabv3_resnet50_w16 -Classes 3 | Measure-Student -Dataset $segmentation }; Columns = 'Model', 'Method', 'mIoU', 'PixAcc', 'Agree', 'Parameters', 'ms/img'; Key = 'Model' }
    @{ Type = 'KdPrediction'; Objects = { Get-KdPrediction -Model $teacher -Dataset $data -Top 4 | Select-Object -First 8 }; Columns = 'Image', 'Class', 'Label', 'Prob', 'Top'; Key = 'Top' }
) {
    BeforeAll {
        $objects = @(& $Objects)
        $lines = @(Get-Table $objects)
    }

    It 'is the KdTools view' {
        $objects[0].PSObject.TypeNames[0] | Should -Be "KdTools.$Type"
    }

    It 'shows every column of the view' {
        -split $lines[0] | Should -Be $Columns
    }

    It 'fits 80 columns without cutting anything off' {
        $lines | Where-Object Length -gt 80 | Should -BeNullOrEmpty
        $lines | Where-Object { $_.Contains([char]0x2026) } | Should -BeNullOrEmpty
    }

    if ($Key) {
        It 'shows every <Key> whole' {
            $text = $lines -join "`n"
            foreach ($property in $Key) {
                foreach ($part in $objects.$property -split '[,;]') {
                    $text.Contains($part) | Should -BeTrue -Because "$property '$part' must not be cut or wrapped"
                }
            }
        }
    }

    # 31: what the architecture table leaves beside its longest name (pspnet_resnet101_deepstem_w16, 29 characters).
    if ($Wide) {
        It 'leaves at least 31 of the 80 characters to <Wide>, its text column' {
            80 - $lines[0].IndexOf($Wide) | Should -BeGreaterOrEqual 31
        }
    }
}
