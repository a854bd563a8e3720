namespace KdTools.Host.Pester;

/// <summary>
/// The run phase, in PowerShell because only the language gives Pester's scoping: a plain (non-module) function scope per
/// block into which BeforeAll is dot-sourced, and a child scope per test shared by its BeforeEach, body and AfterEach.
/// Dynamic scoping makes everything defined by enclosing blocks visible inside. The $__pl names are the runner's own.
/// </summary>
internal static class RunPhaseScript
{
    public const string FunctionName = "Invoke-PesterLiteRun";

    public const string Body = """
        param($__plBlock, $__plReporter)
        $__plSetupError = $null
        try {
            foreach ($__plSetup in $__plBlock.BeforeAll) { $null = . $__plSetup }
        }
        catch { $__plSetupError = $_ }

        if ($null -ne $__plSetupError) {
            $__plReporter.BlockSetupFailed($__plBlock, $__plSetupError)
        }
        else {
            foreach ($__plItem in $__plBlock.Items) {
                if ($__plItem.IsBlock) { Invoke-PesterLiteRun $__plItem $__plReporter; continue }
                $__plReporter.TestStarting()
                $null = & {
                    $__plFailure = $null
                    try {
                        $ExecutionContext.SessionState.PSVariable.Set('_', $__plItem.CurrentItem)
                        foreach ($__plPair in $__plItem.Data.GetEnumerator()) {
                            $ExecutionContext.SessionState.PSVariable.Set($__plPair.Key, $__plPair.Value)
                        }
                        foreach ($__plSetup in $__plItem.BeforeEach) { $null = . $__plSetup }
                        $__plData = $__plItem.Data
                        if ($__plItem.TakesParameters) { $null = . $__plItem.Body @__plData } else { $null = . $__plItem.Body }
                    }
                    catch { $__plFailure = $_ }
                    foreach ($__plTeardown in $__plItem.AfterEach) {
                        try { $null = . $__plTeardown }
                        catch { if ($null -eq $__plFailure) { $__plFailure = $_ } }
                    }
                    $__plReporter.TestFinished($__plItem, $__plFailure)
                }
            }
        }

        foreach ($__plTeardown in $__plBlock.AfterAll) {
            try { $null = . $__plTeardown }
            catch { $__plReporter.BlockTeardownFailed($__plBlock, $_) }
        }
        """;
}
