namespace KdTools.Cmdlets.Tests.Host;

public sealed class CsvShimTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static readonly string NL = Environment.NewLine;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ExportCsvQuotesEveryFieldLeavesNullEmptyAndWritesNumbersInvariantly()
    {
        var run = ScriptRun.Of(_folder.Write("export.ps1", """
            [cultureinfo]::CurrentCulture = 'de-DE'
            @(
                [pscustomobject]@{ Name = 'say "hi"'; Score = 1.5; Note = $null }
                [pscustomobject]@{ Name = 'b,c'; Score = 20; Extra = 'ignored' }
            ) | Export-Csv -Path (Join-Path $PSScriptRoot 'out.csv') -NoTypeInformation
            """));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"\"Name\",\"Score\",\"Note\"{NL}\"say \"\"hi\"\"\",\"1.5\",{NL}\"b,c\",\"20\",{NL}", _folder.Read("out.csv"));
    }

    [Fact]
    public void ExportCsvAppendKeepsTheFileHeaderAndItsColumnOrder()
    {
        var run = ScriptRun.Of(_folder.Write("append.ps1", """
            $path = Join-Path $PSScriptRoot 'log.csv'
            [pscustomobject]@{ Epoch = 1; Loss = 0.5 } | Export-Csv $path
            [pscustomobject]@{ Loss = 0.25; Epoch = 2 } | Export-Csv $path -Append
            """));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"\"Epoch\",\"Loss\"{NL}\"1\",\"0.5\"{NL}\"2\",\"0.25\"{NL}", _folder.Read("log.csv"));
    }

    [Fact]
    public void ExportCsvAppendRefusesAnObjectMissingAColumnUnlessForced()
    {
        var refused = ScriptRun.Of(_folder.Write("refused.ps1", """
            $path = Join-Path $PSScriptRoot 'log.csv'
            [pscustomobject]@{ Epoch = 1; Loss = 0.5 } | Export-Csv $path
            [pscustomobject]@{ Epoch = 2 } | Export-Csv $path -Append
            """));
        var forced = ScriptRun.Of(_folder.Write("forced.ps1", """
            [pscustomobject]@{ Epoch = 3 } | Export-Csv (Join-Path $PSScriptRoot 'log.csv') -Append -Force
            """));

        Assert.Equal(1, refused.ExitCode);
        Assert.EndsWith("FullyQualifiedErrorId: CannotAppendCsvWithMismatchedPropertyNames,KdTools.Host.Shims.ExportCsvCommand\n", refused.Error);
        Assert.Equal(0, forced.ExitCode);
        Assert.Equal($"\"Epoch\",\"Loss\"{NL}\"1\",\"0.5\"{NL}\"3\",{NL}", _folder.Read("log.csv"));
    }

    [Fact]
    public void ImportCsvReadsBackStringPropertiesInHeaderOrder()
    {
        var run = ScriptRun.Of(_folder.Write("roundtrip.ps1", """
            $path = Join-Path $PSScriptRoot 'rt.csv'
            @(
                [pscustomobject]@{ Name = 'a "quoted", text'; Value = 3 }
                [pscustomobject]@{ Name = ''; Value = $null }
            ) | Export-Csv $path
            $rows = Import-Csv $path
            $rows.Count
            foreach ($row in $rows) {
                ($row.PSObject.Properties.Name -join '|') + ' = [' + $row.Name + '] [' + $row.Value + '] ' + $row.Value.GetType().Name
            }
            """));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("2\nName|Value = [a \"quoted\", text] [3] String\nName|Value = [] [] String\n", run.Output);
    }
}
