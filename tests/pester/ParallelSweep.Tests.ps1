# Scaling (issue 13): examples/parallel-sweep.ps1 runs a sweep's rows with ForEach-Object -Parallel, and every row
# gives bit-identical results to the same row run sequentially: the same seeds, the same weights, the same numbers.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force
    $script = Join-Path $PSScriptRoot '..' '..' 'examples' 'parallel-sweep.ps1'
    $tiny = @{
        Method = 'KD', 'CE'; Seed = 1, 2; TeacherArchitecture = 'resnet8'; Student = 'resnet8'; Classes = 3
        TrainCount = 48; TestCount = 24; ImageSize = 8; TeacherEpochs = 1; Epochs = 2; BatchSize = 16; Threads = 1
    }
    $parallel = & $script @tiny -ThrottleLimit 2 -OutputPath (Join-Path $TestDrive 'parallel.csv') 6>$null
    $sequential = & $script @tiny -Sequential -OutputPath (Join-Path $TestDrive 'sequential.csv') 6>$null
    $data = Get-KdDataset -Synthetic -Classes 3 -TrainCount 48 -TestCount 24 -ImageSize 8 -Seed 1
    $parallelTest = $parallel | Measure-Student -Dataset $data -NoTiming
    $sequentialTest = $sequential | Measure-Student -Dataset $data -NoTiming
}

Describe 'A parallel sweep' {
    It 'runs every row of the plan and returns them in plan order' {
        $parallel | Should -HaveCount 4
        ($parallel | ForEach-Object { "$($_.Method)/$($_.Seed)" }) | Should -Be 'KD/1', 'KD/2', 'CE/1', 'CE/2'
        ($sequential | ForEach-Object { "$($_.Method)/$($_.Seed)" }) | Should -Be 'KD/1', 'KD/2', 'CE/1', 'CE/2'
    }

    It 'gives each row bit-identical top-1 and losses to the sequential run of the same seed' {
        for ($i = 0; $i -lt 4; $i++) {
            $because = "row $($parallel[$i].Method)/$($parallel[$i].Seed)"
            $parallel[$i].Top1 | Should -Be $sequential[$i].Top1 -Because $because
            $parallel[$i].TrainLoss | Should -Be $sequential[$i].TrainLoss -Because $because
            $parallel[$i].LossTerms | Should -Be $sequential[$i].LossTerms -Because $because
            $parallelTest[$i].Loss | Should -Be $sequentialTest[$i].Loss -Because $because
            $parallelTest[$i].Top1 | Should -Be $sequentialTest[$i].Top1 -Because $because
        }
    }

    It 'gives different seeds different runs' {
        $parallel[0].TrainLoss | Should -Not -Be $parallel[1].TrainLoss
    }

    It 'writes the runs to the CSV in plan order' {
        $rows = Import-Csv (Join-Path $TestDrive 'parallel.csv')
        $rows.Method | Should -Be 'KD', 'KD', 'CE', 'CE'
        $rows.Seed | Should -Be '1', '2', '1', '2'
    }
}
