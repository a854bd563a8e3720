using System.Formats.Tar;
using KdTools.Core.Data.Download;

namespace KdTools.Core.Tests.Data.Download;

/// <summary>
/// DatasetDownload against a loopback HTTP server started in the test, serving small archives in the exact official
/// CIFAR layout: download, verification, atomic extraction, skipping, resuming, and every failure's id. No test reaches
/// beyond 127.0.0.1.
/// </summary>
public sealed class DatasetDownloadTests : IDisposable
{
    private readonly LoopbackArchiveServer _server = new();
    private readonly TempFolder _temp = new();
    private readonly byte[] _cifar10 = CifarArchives.Cifar10();

    public DatasetDownloadTests() => _server.Serve("cifar-10-binary.tar.gz", _cifar10);

    public void Dispose()
    {
        _server.Dispose();
        _temp.Dispose();
    }

    private DatasetSaveRequest Cifar10Request(string? checksum = null) =>
        new("CIFAR10", _temp.Combine("data")) { Source = _server.BaseUri.AbsoluteUri, Checksum = checksum ?? CifarArchives.Md5(_cifar10) };

    /// <summary>Only the dataset folder and the archive: no .part, no staging folder.</summary>
    private string[] Entries() =>
        Directory.EnumerateFileSystemEntries(_temp.Combine("data")).Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public void Downloads_verifies_and_extracts_CIFAR10_then_reads_it()
    {
        var progress = new List<DatasetSaveProgress>();

        var result = DatasetDownload.Save(Cifar10Request(), progress.Add);

        using var dataset = result.Dataset;
        Assert.Equal(DatasetSaveAction.Download, result.Plan.Action);
        Assert.Equal(("cifar10", 10, 15, 3), (dataset.Name, dataset.Classes, dataset.Train.Count, dataset.Test.Count));
        Assert.Equal(_temp.Combine("data", "cifar-10-batches-bin"), dataset.Source);
        Assert.Equal(["cifar-10-batches-bin", "cifar-10-binary.tar.gz"], Entries());
        Assert.Equal(_cifar10, File.ReadAllBytes(_temp.Combine("data", "cifar-10-binary.tar.gz")));
        // The first record of data_batch_1 comes out as written: its label and its first red, green and blue bytes.
        Assert.Equal(CifarFiles.Cifar10Label(1, 0), dataset.Train.Labels[0].item<long>());
        Assert.Equal(CifarFiles.Pixel(1, 0, 1024), dataset.Train.Images[0, 1, 0, 0].item<byte>());
        var download = progress.Where(p => p.Activity == "Downloading").ToList();
        Assert.NotEmpty(download);
        Assert.Equal((long)_cifar10.Length, download[^1].Done);
        Assert.Equal(_cifar10.Length, download[^1].Total);
        Assert.Contains(progress, p => p.Activity == "Verifying");
        Assert.Contains(progress, p => p.Activity == "Extracting");
    }

    [Fact]
    public void A_second_call_finds_the_dataset_and_downloads_nothing_and_Force_downloads_again()
    {
        DatasetDownload.Save(Cifar10Request()).Dataset.Dispose();
        var requests = _server.Requests.Count;

        var again = DatasetDownload.Save(Cifar10Request());
        var afterAgain = _server.Requests.Count;
        Directory.Delete(_temp.Combine("data", "cifar-10-batches-bin"), recursive: true);
        var fromArchive = DatasetDownload.Save(Cifar10Request());
        var afterArchive = _server.Requests.Count;
        var forced = DatasetDownload.Save(Cifar10Request() with { Force = true });

        Assert.Equal(1, requests);
        Assert.Equal(DatasetSaveAction.Present, again.Plan.Action);
        Assert.Equal(DatasetSaveAction.Extract, fromArchive.Plan.Action);
        Assert.Equal(1, afterAgain);
        Assert.Equal(1, afterArchive);
        Assert.Equal(DatasetSaveAction.Download, forced.Plan.Action);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal(["cifar-10-batches-bin", "cifar-10-binary.tar.gz"], Entries());
        foreach (var result in new[] { again, fromArchive, forced }) result.Dataset.Dispose();
    }

    [Fact]
    public void Downloads_CIFAR100_from_a_mirror_folder_uri()
    {
        var archive = CifarArchives.Cifar100();
        _server.Serve("mirror/cifar-100-binary.tar.gz", archive);

        var result = DatasetDownload.Save(new DatasetSaveRequest("cifar100", _temp.Combine("data"))
        {
            Source = new Uri(_server.BaseUri, "mirror").AbsoluteUri, Checksum = CifarArchives.Md5(archive),
        });

        using var dataset = result.Dataset;
        Assert.Equal(("cifar100", 100, 4, 2), (dataset.Name, dataset.Classes, dataset.Train.Count, dataset.Test.Count));
        Assert.Equal([99L, 3, 42, 0], dataset.Train.Labels.data<long>().ToArray());
        Assert.Equal("fine42", dataset.ClassNames![42]);
        Assert.Equal(("mirror/cifar-100-binary.tar.gz", ""), _server.Requests.Single());
    }

    [Fact]
    public void A_corrupted_download_is_removed_and_the_error_names_both_checksums()
    {
        var corrupted = (byte[])_cifar10.Clone();
        corrupted[corrupted.Length / 2] ^= 0xFF;
        _server.Serve("cifar-10-binary.tar.gz", corrupted);
        var expected = CifarArchives.Md5(_cifar10);

        var error = Assert.Throws<KdException>(() => DatasetDownload.Save(Cifar10Request(expected)));

        Assert.Equal(KdErrorIds.DatasetChecksumMismatch, error.ErrorId);
        Assert.Contains(expected, error.Message);
        Assert.Contains(CifarArchives.Md5(corrupted), error.Message);
        Assert.Contains("removed", error.Message);
        Assert.Empty(Entries());
    }

    [Fact]
    public void The_published_MD5_is_the_default_so_the_small_test_archive_does_not_pass_it()
    {
        var error = Assert.Throws<KdException>(() =>
            DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = _server.BaseUri.AbsoluteUri }));

        Assert.Equal(KdErrorIds.DatasetChecksumMismatch, error.ErrorId);
        Assert.Contains("c32a1d4ab5d03f1284b67883e8d87530", error.Message);
        Assert.Equal("03b5dce01913d631647c71ecec9e9cb8", DatasetArchive.Find("CIFAR100").Md5);
    }

    [Fact]
    public void A_download_cut_mid_stream_keeps_its_part_and_the_next_call_resumes_it_with_a_range_request()
    {
        var cut = _cifar10.Length / 3;
        _server.CutAfterBytes = cut;

        var error = Assert.Throws<KdException>(() => DatasetDownload.Save(Cifar10Request()));
        var part = _temp.Combine("data", "cifar-10-binary.tar.gz.part");
        var kept = new FileInfo(part).Length;
        var entriesAfterCut = Entries();
        var result = DatasetDownload.Save(Cifar10Request());

        Assert.Equal(KdErrorIds.DatasetDownloadInterrupted, error.ErrorId);
        Assert.Contains("run the same command again", error.Message);
        Assert.Equal(cut, kept);
        Assert.Equal(["cifar-10-binary.tar.gz.part"], entriesAfterCut);
        Assert.Equal(["", $"bytes={cut}-"], _server.Requests.Select(r => r.Range));
        Assert.Equal(15, result.Dataset.Train.Count);
        Assert.Equal(_cifar10, File.ReadAllBytes(_temp.Combine("data", "cifar-10-binary.tar.gz")));
        result.Dataset.Dispose();
    }

    [Fact]
    public void A_server_without_range_support_restarts_the_download_from_the_start()
    {
        _server.CutAfterBytes = 1000;
        _server.IgnoreRanges = true;
        Assert.Throws<KdException>(() => DatasetDownload.Save(Cifar10Request()));

        using var dataset = DatasetDownload.Save(Cifar10Request()).Dataset;

        Assert.Equal(15, dataset.Train.Count);
        Assert.Equal(_cifar10, File.ReadAllBytes(_temp.Combine("data", "cifar-10-binary.tar.gz")));
    }

    [Fact]
    public void Cancelling_keeps_the_part_and_a_later_call_finishes_it()
    {
        _server.Serve("big/cifar-10-binary.tar.gz", _cifar10);
        using var cancel = new CancellationTokenSource();
        var request = Cifar10Request() with { Source = new Uri(_server.BaseUri, "big/").AbsoluteUri };

        Assert.ThrowsAny<OperationCanceledException>(() => DatasetDownload.Save(request, p =>
        {
            if (p.Activity == "Downloading") cancel.Cancel();
        }, cancellation: cancel.Token));
        var kept = new FileInfo(_temp.Combine("data", "cifar-10-binary.tar.gz.part")).Length;
        using var dataset = DatasetDownload.Save(request).Dataset;

        Assert.InRange(kept, 1, _cifar10.Length);
        Assert.Equal(3, dataset.Test.Count);
    }

    [Fact]
    public void An_unreachable_source_and_a_missing_file_fail_as_unreachable()
    {
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var refused = Assert.Throws<KdException>(() =>
            DatasetDownload.Save(Cifar10Request() with { Source = $"http://127.0.0.1:{closedPort}/" }));
        var missing = Assert.Throws<KdException>(() =>
            DatasetDownload.Save(Cifar10Request() with { Source = new Uri(_server.BaseUri, "nothing/").AbsoluteUri }));
        var noPath = Assert.Throws<KdException>(() => DatasetDownload.Save(Cifar10Request() with { Source = _temp.Combine("absent.tar.gz") }));

        Assert.Equal(KdErrorIds.DatasetSourceUnreachable, refused.ErrorId);
        Assert.Contains($"127.0.0.1:{closedPort}", refused.Message);
        Assert.Equal(KdErrorIds.DatasetSourceUnreachable, missing.ErrorId);
        Assert.Contains("404", missing.Message);
        Assert.Equal(KdErrorIds.DatasetSourceUnreachable, noPath.ErrorId);
        Assert.False(Directory.Exists(_temp.Combine("data", "cifar-10-batches-bin")));
    }

    [Fact]
    public void A_local_archive_is_extracted_without_network_and_kept_even_when_its_checksum_is_wrong()
    {
        var local = _temp.Combine("copy.tar.gz");
        File.WriteAllBytes(local, _cifar10);

        var wrong = Assert.Throws<KdException>(() =>
            DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = local }));
        var result = DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = local, Checksum = CifarArchives.Md5(_cifar10) });

        Assert.Equal(KdErrorIds.DatasetChecksumMismatch, wrong.ErrorId);
        Assert.True(File.Exists(local));
        Assert.Equal(DatasetSaveAction.Extract, result.Plan.Action);
        Assert.Equal(["cifar-10-batches-bin"], Entries());
        Assert.Empty(_server.Requests);
        result.Dataset.Dispose();
    }

    public static TheoryData<string, Action<TarWriter>> HostileEntries => new()
    {
        { "symbolic link", tar => tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "cifar-10-batches-bin/link") { LinkName = "/etc/passwd" }) },
        { "hard link", tar => tar.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "cifar-10-batches-bin/hard") { LinkName = "/etc/passwd" }) },
        { "climbing name", tar => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/../../escaped.txt") { DataStream = new MemoryStream([1]) }) },
        { "absolute name", tar => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "/tmp/kdtools-absolute.txt") { DataStream = new MemoryStream([1]) }) },
        { "device", tar => tar.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "cifar-10-batches-bin/null")) },
    };

    [Theory]
    [MemberData(nameof(HostileEntries))]
    public void An_archive_with_a_link_a_device_or_an_escaping_name_is_rejected_and_nothing_is_extracted(string what, Action<TarWriter> entry)
    {
        var files = new[] { ("cifar-10-batches-bin/test_batch.bin", CifarFiles.Cifar10(6, 1, 2, 3)) };
        var hostile = CifarArchives.TarGz(files, entry);
        var local = _temp.Combine("hostile.tar.gz");
        File.WriteAllBytes(local, hostile);

        var error = Assert.Throws<KdException>(() => DatasetDownload.Save(
            new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = local, Checksum = CifarArchives.Md5(hostile) }));

        Assert.True(error.ErrorId == KdErrorIds.DatasetArchiveInvalid, $"{what}: {error.ErrorId}");
        Assert.Empty(Entries());
        Assert.False(File.Exists(_temp.Combine("escaped.txt")));
        Assert.False(File.Exists("/tmp/kdtools-absolute.txt"));
    }

    [Fact]
    public void An_entry_claiming_an_absurd_size_is_rejected_before_it_is_read()
    {
        // A ustar header whose size field claims 8 GiB: the reader must refuse it from the header alone.
        var header = new byte[512];
        System.Text.Encoding.ASCII.GetBytes("cifar-10-batches-bin/data_batch_1.bin").CopyTo(header, 0);
        System.Text.Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        System.Text.Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        System.Text.Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        System.Text.Encoding.ASCII.GetBytes("100000000000").CopyTo(header, 124); // octal 8 GiB
        System.Text.Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = (byte)'0';
        System.Text.Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.ToArray().CopyTo(header, 148);
        var sum = header.Sum(b => b);
        System.Text.Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(header);
            gzip.Write(new byte[4096]);
        }
        var local = _temp.Combine("bomb.tar.gz");
        File.WriteAllBytes(local, output.ToArray());

        var error = Assert.Throws<KdException>(() => DatasetDownload.Save(
            new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = local, Checksum = CifarArchives.Md5(output.ToArray()) }));

        Assert.Equal(KdErrorIds.DatasetArchiveInvalid, error.ErrorId);
        Assert.Contains("8589934592", error.Message);
        Assert.Empty(Entries());
    }

    [Fact]
    public void An_archive_of_the_other_dataset_is_not_installed()
    {
        var local = _temp.Combine("cifar-100-binary.tar.gz");
        var archive = CifarArchives.Cifar100();
        File.WriteAllBytes(local, archive);

        var error = Assert.Throws<KdException>(() => DatasetDownload.Save(
            new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = local, Checksum = CifarArchives.Md5(archive) }));

        Assert.Equal(KdErrorIds.DatasetArchiveInvalid, error.ErrorId);
        Assert.Contains("cifar-10-batches-bin", error.Message);
        Assert.Empty(Entries());
    }

    [Fact]
    public void A_full_disk_is_told_apart_from_other_write_failures()
    {
        // /dev/full fails every write with ENOSPC: a real "disk full" from the operating system.
        IOException? full = null;
        try
        {
            using var device = new FileStream("/dev/full", FileMode.Open, FileAccess.Write);
            device.Write(new byte[4096]);
            device.Flush();
        }
        catch (IOException ex)
        {
            full = ex;
        }

        Assert.NotNull(full);
        Assert.Equal(KdErrorIds.DatasetDiskFull, DatasetDownload.WriteFailure(full, "/data").ErrorId);
        Assert.Equal(KdErrorIds.DatasetWriteFailed, DatasetDownload.WriteFailure(new IOException("other"), "/data").ErrorId);
    }

    [Fact]
    public void Configuration_errors_fail_before_any_request()
    {
        var name = Assert.Throws<KdException>(() => DatasetDownload.Plan(new DatasetSaveRequest("CIFAR-10x", _temp.Path)));
        var checksum = Assert.Throws<KdException>(() => DatasetDownload.Plan(Cifar10Request("abc")));
        var scheme = Assert.Throws<KdException>(() => DatasetDownload.Plan(Cifar10Request() with { Source = "ftp://127.0.0.1/x/" }));

        Assert.Equal(KdErrorIds.DatasetArgumentInvalid, name.ErrorId);
        Assert.Contains("CIFAR10, CIFAR100", name.Message);
        Assert.Equal(KdErrorIds.DatasetArgumentInvalid, checksum.ErrorId);
        Assert.Equal(KdErrorIds.DatasetSourceUnreachable, scheme.ErrorId);
        Assert.Empty(_server.Requests);
    }
}
