using KdTools.Core.Tests.Data.Download;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>Save-KdDataset as a user runs it, against a loopback HTTP server started in the test.</summary>
[Collection("module")]
public sealed class SaveDatasetCmdletTests(ModuleFixture fixture) : IDisposable
{
    private readonly ModuleSession _session = fixture.Session;
    private readonly LoopbackArchiveServer _server = new();
    private readonly TempFolder _temp = new();
    private readonly byte[] _archive = CifarArchives.Cifar10();

    public void Dispose()
    {
        _server.Dispose();
        _temp.Dispose();
    }

    private string Save(string extra = "") =>
        $"Save-KdDataset CIFAR10 '{_temp.PathOf("data")}' -Source '{_server.BaseUri}' -Checksum {CifarArchives.Md5(_archive)} {extra}";

    [Fact]
    public void Downloads_with_progress_and_pipes_the_dataset_into_New_Teacher()
    {
        _server.Serve("cifar-10-binary.tar.gz", _archive);

        var result = _session.Run($"{Save()} | New-Teacher resnet8 -Epochs 1 -BatchSize 8 -NoAugment -Threads 1 | ForEach-Object {{ $_.TrainedOn, $_.TrainedEpochs }}");
        var again = _session.Run($"{Save()} -Verbose | ForEach-Object {{ $_.Name, $_.TrainCount, $_.TestCount, $_.Source }}");

        result.AssertSucceeded();
        Assert.Equal(["cifar10", "1"], result.Output.Select(o => o.ToString()));
        Assert.Contains(result.Progress, p => p.Activity == "Downloading CIFAR10" && p.PercentComplete == 100);
        again.AssertSucceeded();
        Assert.Equal(["cifar10", "15", "3", _temp.PathOf(Path.Combine("data", "cifar-10-batches-bin"))], again.Output.Select(o => o.ToString()));
        Assert.Contains(again.Verbose, v => v.Contains("already in"));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public void WhatIf_downloads_and_writes_nothing()
    {
        _server.Serve("cifar-10-binary.tar.gz", _archive);

        var result = _session.Run(Save("-WhatIf"));

        result.AssertSucceeded();
        Assert.Empty(result.Output);
        Assert.Empty(_server.Requests);
        Assert.False(Directory.Exists(_temp.PathOf("data")));
    }

    [Fact]
    public void A_corrupted_archive_and_a_cut_download_fail_with_their_ids_and_a_rerun_resumes()
    {
        var corrupted = (byte[])_archive.Clone();
        corrupted[100] ^= 1;
        _server.Serve("bad/cifar-10-binary.tar.gz", corrupted);
        _server.Serve("cifar-10-binary.tar.gz", _archive);

        var mismatch = _session.Run($"Save-KdDataset CIFAR10 '{_temp.PathOf("bad")}' -Source '{_server.BaseUri}bad/' -Checksum {CifarArchives.Md5(_archive)}");
        _server.CutAfterBytes = _archive.Length / 2;
        var cut = _session.Run(Save());
        var resumed = _session.Run($"{Save()} | ForEach-Object TrainCount");

        Assert.Equal("KdTools.Dataset.ChecksumMismatch", mismatch.FirstErrorId);
        Assert.Contains(CifarArchives.Md5(corrupted), mismatch.FirstError!.Exception.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_temp.PathOf("bad")));
        Assert.Equal("KdTools.Dataset.DownloadInterrupted", cut.FirstErrorId);
        resumed.AssertSucceeded();
        Assert.Equal("15", resumed.Output.Single().ToString());
        Assert.Equal($"bytes={_archive.Length / 2}-", _server.Requests.Last().Range);
    }

    [Fact]
    public void An_unknown_name_and_an_unreachable_source_fail_before_any_file_is_written()
    {
        var name = _session.Run($"Save-KdDataset CIFAR1O '{_temp.PathOf("data")}'");
        var source = _session.Run($"Save-KdDataset CIFAR10 '{_temp.PathOf("data")}' -Source '{_temp.PathOf("nowhere.tar.gz")}'");

        Assert.Equal("KdTools.Dataset.ArgumentInvalid", name.FirstErrorId);
        Assert.Contains("did you mean 'CIFAR10'", name.FirstError!.Exception.Message);
        Assert.Equal("KdTools.Dataset.SourceUnreachable", source.FirstErrorId);
        Assert.False(Directory.Exists(_temp.PathOf("data")));
    }
}
