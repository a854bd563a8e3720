@{
    RootModule           = 'bin/KdTools.Cmdlets.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0d7f5e-6a1b-4a53-9a43-3c1f1d2b7e10'
    Author               = 'KdTools contributors'
    CompanyName          = 'KdTools'
    Copyright            = '(c) KdTools contributors. MIT License.'
    Description          = 'Knowledge distillation for .NET over TorchSharp: train teachers, distill students with KD and feature/relation methods, measure them, all as pipeline objects.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('KdTools.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-KdDataset'
        'Save-KdDataset'
        'ConvertTo-KdShard'
        'Get-KdMethod'
        'Get-KdArchitecture'
        'Get-KdRecipe'
        'New-Teacher'
        'New-Student'
        'Add-IntermediateHead'
        'Invoke-Distillation'
        'Measure-Student'
        'Get-KdHistory'
        'Save-KdModel'
        'Import-KdModel'
        'Get-KdPrediction'
        'Export-KdPlot'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('KnowledgeDistillation', 'DeepLearning', 'TorchSharp', 'MachineLearning')
        }
    }
}
