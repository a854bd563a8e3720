using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace KdTools.Core.Tests.Data.Download;

/// <summary>
/// Small .tar.gz archives in the exact layout of the official CIFAR binary archives (a top folder, the .bin record
/// files, the class-name text files), plus hostile ones, written with System.Formats.Tar in the test.
/// </summary>
internal static class CifarArchives
{
    /// <summary>cifar-10-batches-bin/: five training batches of three records, a test batch of three, batches.meta.txt, readme.html.</summary>
    public static byte[] Cifar10() => TarGz(
        [.. Enumerable.Range(1, 5).Select(f => ($"cifar-10-batches-bin/data_batch_{f}.bin",
            CifarFiles.Cifar10(f, CifarFiles.Cifar10Label(f, 0), CifarFiles.Cifar10Label(f, 1), CifarFiles.Cifar10Label(f, 2)))),
         ("cifar-10-batches-bin/test_batch.bin", CifarFiles.Cifar10(6, CifarFiles.Cifar10Label(6, 0), CifarFiles.Cifar10Label(6, 1), CifarFiles.Cifar10Label(6, 2))),
         ("cifar-10-batches-bin/batches.meta.txt", Encoding.ASCII.GetBytes("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")),
         ("cifar-10-batches-bin/readme.html", Encoding.ASCII.GetBytes("<html></html>"))]);

    /// <summary>cifar-100-binary/: train.bin (4 records), test.bin (2), fine and coarse label names.</summary>
    public static byte[] Cifar100() => TarGz(
        [("cifar-100-binary/train.bin", CifarFiles.Cifar100(1, (0, 99), (19, 3), (5, 42), (7, 0))),
         ("cifar-100-binary/test.bin", CifarFiles.Cifar100(2, (1, 7), (2, 64))),
         ("cifar-100-binary/fine_label_names.txt", Encoding.ASCII.GetBytes(string.Join("\n", Enumerable.Range(0, 100).Select(i => $"fine{i}")) + "\n")),
         ("cifar-100-binary/coarse_label_names.txt", Encoding.ASCII.GetBytes(string.Join("\n", Enumerable.Range(0, 20).Select(i => $"coarse{i}")) + "\n"))]);

    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    /// <summary>A gzip'd ustar archive of regular files, each preceded by its folder entries.</summary>
    public static byte[] TarGz(IEnumerable<(string Name, byte[] Content)> files, Action<TarWriter>? extra = null)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            var folders = new HashSet<string>();
            foreach (var (name, content) in files)
            {
                var folder = Path.GetDirectoryName(name)?.Replace('\\', '/');
                if (!string.IsNullOrEmpty(folder) && folders.Add(folder))
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, folder + "/"));
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            }
            extra?.Invoke(tar);
        }
        return output.ToArray();
    }
}
