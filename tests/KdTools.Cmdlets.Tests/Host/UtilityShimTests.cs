using System.Management.Automation.Runspaces;
using KdTools.Host.Shims;

namespace KdTools.Cmdlets.Tests.Host;

public sealed class UtilityShimTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ShimsAreAddedOnlyForCommandsTheSessionLacks()
    {
        var state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateFunctionEntry("Export-Csv", "'user defined'"));

        var added = ShimRegistry.AddMissing(state);

        Assert.DoesNotContain("Export-Csv", added);
        Assert.Contains("Import-Csv", added);
        Assert.Contains("Write-Host", added);
        Assert.Equal("'user defined'", Assert.Single(state.Commands["Export-Csv"]) is SessionStateFunctionEntry f ? f.Definition : null);
    }

    [Fact]
    public void SelectSortAndMeasureWorkOnPipelineObjects()
    {
        var run = ScriptRun.Of(_folder.Write("select.ps1", """
            $runs = 1..5 | ForEach-Object { [pscustomobject]@{ Id = $_; Acc = $_ / 10 } }
            ($runs | Sort-Object Acc -Descending | Select-Object -First 2 -ExpandProperty Id) -join ','
            ($runs | Select-Object -Last 2 -Skip 1 | ForEach-Object Id) -join ','
            $picked = $runs | Select-Object Id, @{ Name = 'Pct'; Expression = { $_.Acc * 100 } } -First 1
            ($picked.PSObject.Properties.Name -join ',') + '=' + $picked.Pct
            $m = $runs | Measure-Object -Property Acc -Sum -Average -Maximum -Minimum
            "$($m.Count) $($m.Sum) $($m.Average) $($m.Maximum) $($m.Minimum) $($m.Property)"
            ('b', 'a', 'C' | Sort-Object) -join ','
            """));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("5,4\n3,4\nId,Pct=10\n5 1.5 0.3 0.5 0.1 Acc\na,b,C\n", run.Output);
    }

    [Fact]
    public void FormatTablePrintsTheChosenColumnsAndOutputsNothing()
    {
        var run = ScriptRun.Of(_folder.Write("ft.ps1", """
            $result = [pscustomobject]@{ Model = 'resnet8'; Acc = 91.5; Params = 78042 } | Format-Table Model, Acc
            "result count: $(@($result).Count)"
            """));

        Assert.Equal("\nModel    Acc\n-----    ---\nresnet8 91.5\n\nresult count: 0\n", run.Output);
    }

    [Fact]
    public void OutStringReturnsTheDefaultRenderingAsText()
    {
        var run = ScriptRun.Of(_folder.Write("os.ps1", """
            $text = [pscustomobject]@{ K = 'v' } | Out-String
            "[" + $text.Replace("`n", '|') + "]"
            """));

        Assert.Equal("[|K|-|v||]\n", run.Output);
    }

    [Fact]
    public void FileSystemShimsResolvePathsThroughThePowerShellLocation()
    {
        var run = ScriptRun.Of(_folder.Write("fs.ps1", """
            Set-Location $PSScriptRoot
            $dir = New-Item -ItemType Directory -Path 'sub'
            Set-Content -Path (Join-Path 'sub' 'a.txt') -Value 'one', 'two'
            Add-Content -Path sub/a.txt -Value 'three'
            (Get-Content sub/a.txt) -join ','
            (Get-Content sub/a.txt -Raw).Length
            Test-Path sub/a.txt -PathType Leaf
            Test-Path sub -PathType Leaf
            (Get-ChildItem sub -Filter '*.txt' | ForEach-Object Name) -join ','
            Split-Path (Join-Path (Get-Location) 'sub/a.txt') -Leaf
            Remove-Item sub -Recurse
            Test-Path sub
            """));

        Assert.Equal(0, run.ExitCode);
        var eol = Environment.NewLine.Length;
        Assert.Equal($"one,two,three\n{11 + 3 * eol}\nTrue\nFalse\na.txt\na.txt\nFalse\n", run.Output);
    }
}
