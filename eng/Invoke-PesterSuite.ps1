<#
.SYNOPSIS
    Runs the Pester files of a folder with the Pester module at -PesterModule (imported by path, so the version is the
    one the build pinned), writes NUnit XML, and prints one line "Pester: N passed, M failed" for build.sh's total.
#>
param(
    [Parameter(Mandatory)] [string] $PesterModule,
    [Parameter(Mandatory)] [string] $Path,
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterModule

$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = $ResultPath

$result = Invoke-Pester -Configuration $configuration
# A failing BeforeAll fails its block (or its whole file) without failing an It; count those too.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
"Pester: $($result.PassedCount) passed, $failed failed"
exit ([int]($failed -gt 0))
