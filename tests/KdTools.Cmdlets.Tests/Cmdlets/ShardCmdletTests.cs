namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>ConvertTo-KdShard and Get-KdDataset -Stream as a user runs them.</summary>
[Collection("module")]
public sealed class ShardCmdletTests(ModuleFixture fixture)
{
    private readonly ModuleSession _session = fixture.Session;
    private const string Tiny = "Get-KdDataset -Synthetic -Classes 3 -TrainCount 24 -TestCount 9 -ImageSize 8";

    [Fact]
    public void Writes_both_shard_files_and_Get_KdDataset_streams_them_with_the_same_contents()
    {
        using var temp = new TempFolder();
        var folder = temp.PathOf("shards");

        var result = _session.Run($$"""
            $data = {{Tiny}}
            $files = $data | ConvertTo-KdShard '{{folder}}'
            $streamed = Get-KdDataset -Path '{{folder}}' -Stream
            $memory = Get-KdDataset -Path '{{folder}}'
            $files | ForEach-Object Name
            $streamed.Streamed, $memory.Streamed, $streamed.TrainCount, $streamed.Classes
            $streamed.Dataset.Fingerprint -eq $data.Dataset.Fingerprint
            """);

        result.AssertSucceeded();
        Assert.Equal(["train.kdshard", "test.kdshard", "True", "False", "24", "3", "True"], result.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Existing_shards_need_Force_and_WhatIf_writes_nothing()
    {
        using var temp = new TempFolder();
        var folder = temp.PathOf("shards");

        var whatIf = _session.Run($"{Tiny} | ConvertTo-KdShard '{folder}' -WhatIf");
        bool writtenByWhatIf = Directory.Exists(folder);
        _session.Run($"{Tiny} | ConvertTo-KdShard '{folder}'").AssertSucceeded();
        var again = _session.Run($"{Tiny} | ConvertTo-KdShard '{folder}'");
        var forced = _session.Run($"Get-KdDataset -Synthetic -Classes 2 -TrainCount 10 -TestCount 4 -ImageSize 8 | ConvertTo-KdShard '{folder}' -Force; (Get-KdDataset '{folder}').Classes");

        whatIf.AssertSucceeded();
        Assert.False(writtenByWhatIf);
        Assert.Equal("KdTools.Dataset.Exists", again.FirstErrorId);
        Assert.Contains("-Force", again.FirstError!.Exception.Message);
        forced.AssertSucceeded();
        Assert.Equal("2", forced.Output.Last().ToString());
    }

    [Fact]
    public void A_damaged_shard_and_streaming_a_csv_folder_fail_with_their_ids()
    {
        using var temp = new TempFolder();
        var folder = temp.PathOf("shards");
        _session.Run($"{Tiny} | ConvertTo-KdShard '{folder}'").AssertSucceeded();
        var train = Path.Combine(folder, "train.kdshard");
        using (var file = new FileStream(train, FileMode.Open)) file.SetLength(100);
        var csv = temp.PathOf("csv");
        Directory.CreateDirectory(csv);
        var pixels = string.Join(",", Enumerable.Repeat("7", 64));
        File.WriteAllLines(Path.Combine(csv, "train.csv"), [$"0,{pixels}", $"1,{pixels}"]);
        File.WriteAllLines(Path.Combine(csv, "test.csv"), [$"1,{pixels}"]);

        var damaged = _session.Run($"Get-KdDataset -Path '{folder}'");
        var streamedCsv = _session.Run($"Get-KdDataset -Path '{csv}' -ImageSize 8 -Channels 1 -Stream");

        Assert.Equal("KdTools.Dataset.FileCorrupt", damaged.FirstErrorId);
        Assert.Contains(train, damaged.FirstError!.Exception.Message);
        Assert.Equal("KdTools.Dataset.StreamingUnsupported", streamedCsv.FirstErrorId);
    }
}
