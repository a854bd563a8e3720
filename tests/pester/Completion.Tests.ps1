# Tab completion of the registry-backed parameters: what a user typing in pwsh gets offered.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '..' '..' 'module' 'KdTools.psd1') -Force

    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

Describe 'Tab completion' {
    It 'offers the methods that start with what was typed, with their summaries as tooltips' {
        $offered = Get-Completion 'Invoke-Distillation -Method D'
        $offered.CompletionText | Should -Contain 'DKD'
        $offered.CompletionText | Should -Contain 'DIST'
        $offered.CompletionText | Should -Contain 'DIH'
        $offered.CompletionText | Should -Not -Contain 'KD'
        ($offered | Where-Object CompletionText -eq 'DKD').ToolTip | Should -Be (Get-KdMethod DKD).Summary
    }

    It 'offers every architecture of a family, case-insensitively' {
        $names = (Get-Completion 'New-Teacher -Architecture shuffle').CompletionText
        $names | Should -Be @((Get-KdArchitecture | Where-Object Name -like 'shuffle*').Name)
        $names | Should -Contain 'ShuffleV1'
    }

    It 'offers the recipes and the dataset formats, detection first' {
        (Get-Completion 'New-Teacher resnet8 -Recipe Rep').CompletionText | Should -Be 'RepDistiller'
        $formats = (Get-Completion 'Get-KdDataset -Path . -Format ').CompletionText
        $formats[0] | Should -Be 'Auto'
        $formats | Should -Contain 'Voc'
    }
}
