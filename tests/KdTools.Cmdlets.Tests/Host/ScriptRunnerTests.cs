namespace KdTools.Cmdlets.Tests.Host;

public sealed class ScriptRunnerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void PipelineObjectsAreRenderedAsATableAndScalarsPlainly()
    {
        var run = ScriptRun.Of(_folder.Write("table.ps1", """
            'before'
            [pscustomobject]@{ Name = 'alpha'; Epoch = 3 }
            [pscustomobject]@{ Name = 'b'; Epoch = 12 }
            """));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("before\n\nName  Epoch\n----  -----\nalpha     3\nb        12\n\n", run.Output);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public void ObjectsWithMoreThanFourPropertiesAreRenderedAsAList()
    {
        var run = ScriptRun.Of(_folder.Write("list.ps1", "[pscustomobject]@{ A = 1; B = 2; C = 3; D = 4; E = 'five' }"));

        Assert.Equal("\nA : 1\nB : 2\nC : 3\nD : 4\nE : five\n\n", run.Output);
    }

    [Fact]
    public void StreamsArePrefixedLikePwshAndGoToStdoutOrStderr()
    {
        var run = ScriptRun.Of(_folder.Write("streams.ps1", """
            [CmdletBinding()] param()
            Write-Host 'host' -ForegroundColor Red
            Write-Verbose 'verbose'
            Write-Warning 'warning'
            Write-Error 'not fatal'
            Write-Information 'hidden by default'
            'after'
            """), "-Verbose");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("host\nVERBOSE: verbose\nafter\n", run.Output);
        Assert.Equal("WARNING: warning\nWrite-Error: not fatal\n", run.Error);
    }

    [Fact]
    public void ArgumentsBindLikePwshFile()
    {
        var run = ScriptRun.Of(_folder.Write("args.ps1", """
            param([string] $Name, [int] $Count, [switch] $Loud, [switch] $Quiet)
            "$Name|$Count|$Loud|$Quiet"
            """), "-Name", "it's ‘quoted’", "-Count:4", "-Loud", "-Quiet:$false");

        Assert.Equal("it's ‘quoted’|4|True|False\n", run.Output);
    }

    [Fact]
    public void ExitWithANumberBecomesTheExitCodeAfterEarlierOutputIsFlushed()
    {
        var run = ScriptRun.Of(_folder.Write("exit.ps1", """
            [pscustomobject]@{ Step = 1 }
            function Stop-Now { exit 7 }
            Stop-Now
            'not reached'
            """));

        Assert.Equal(7, run.ExitCode);
        Assert.Equal("\nStep\n----\n   1\n\n", run.Output);
    }

    [Fact]
    public void ATerminatingErrorPrintsMessagePositionAndErrorIdAndExitsWithOne()
    {
        var script = _folder.Write("fail.ps1", "'started'\nthrow 'model file is missing'\n");

        var run = ScriptRun.Of(script);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("started\n", run.Output);
        Assert.StartsWith($"model file is missing\nAt {script}:2 char:1\n", run.Error);
        Assert.EndsWith("FullyQualifiedErrorId: model file is missing\n", run.Error);
    }

    [Fact]
    public void AMissingScriptFailsWithExitCodeOne()
    {
        var run = ScriptRun.Of(Path.Combine(_folder.Path, "absent.ps1"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("absent.ps1' does not exist", run.Error);
    }
}
