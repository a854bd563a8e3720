using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Reads the official CIFAR binary releases. CIFAR-10: data_batch_1..5.bin and test_batch.bin, records of 1 label byte
/// + 3072 pixel bytes (1024 R, 1024 G, 1024 B, row-major 32×32). CIFAR-100: train.bin and test.bin, records of a coarse
/// and a fine label byte + 3072 pixel bytes; the fine labels (100 classes) are used. Each file is read in one piece and
/// split with tensor ops.
/// </summary>
public static class CifarReader
{
    private const int Pixels = 3 * 32 * 32;
    private static readonly string[] Cifar10Train = Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray();
    private static readonly float[] Cifar10Mean = [0.4914f, 0.4822f, 0.4465f], Cifar10Std = [0.2470f, 0.2435f, 0.2616f];
    private static readonly float[] Cifar100Mean = [0.5071f, 0.4865f, 0.4409f], Cifar100Std = [0.2673f, 0.2564f, 0.2762f];

    /// <summary>Reads a CIFAR-10 or CIFAR-100 binary folder (or its parent holding cifar-10-batches-bin / cifar-100-binary).</summary>
    public static KdDataset Read(string path)
    {
        if (!Directory.Exists(path))
            throw new KdException(KdErrorIds.DatasetPathMissing, KdErrorKind.ObjectNotFound,
                $"dataset folder '{path}' does not exist; pass -Path to a CIFAR-10/100 binary folder or use -Synthetic", path);
        foreach (var folder in new[] { path, Path.Combine(path, "cifar-10-batches-bin"), Path.Combine(path, "cifar-100-binary") })
        {
            if (File.Exists(Path.Combine(folder, "test_batch.bin")) || File.Exists(Path.Combine(folder, Cifar10Train[0])))
                return ReadCifar10(folder);
            if (File.Exists(Path.Combine(folder, "train.bin")) || File.Exists(Path.Combine(folder, "test.bin")))
                return ReadCifar100(folder);
        }
        throw new KdException(KdErrorIds.DatasetFormatUnknown, KdErrorKind.InvalidData,
            $"'{path}' holds neither CIFAR-10 binary files ({string.Join(", ", Cifar10Train)}, test_batch.bin) nor CIFAR-100 ones (train.bin, test.bin)", path);
    }

    private static KdDataset ReadCifar10(string folder)
    {
        var train = Concatenate(Cifar10Train.Select(f => ReadRecords(folder, f, labelBytes: 1, classes: 10)).ToList());
        var test = ReadRecords(folder, "test_batch.bin", labelBytes: 1, classes: 10);
        return new KdDataset("cifar10", folder, 10, train, test, Cifar10Mean, Cifar10Std, ClassNames(folder, "batches.meta.txt", 10));
    }

    private static KdDataset ReadCifar100(string folder)
    {
        var train = ReadRecords(folder, "train.bin", labelBytes: 2, classes: 100);
        var test = ReadRecords(folder, "test.bin", labelBytes: 2, classes: 100);
        return new KdDataset("cifar100", folder, 100, train, test, Cifar100Mean, Cifar100Std, ClassNames(folder, "fine_label_names.txt", 100));
    }

    /// <summary>One file's records; the last label byte is the class (CIFAR-100's fine label).</summary>
    private static ImageSet ReadRecords(string folder, string name, int labelBytes, int classes)
    {
        var file = Path.Combine(folder, name);
        if (!File.Exists(file))
            throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                $"'{name}' is missing from '{folder}'; the CIFAR binary release has every batch file — download it again", file);
        int record = labelBytes + Pixels;
        var bytes = File.ReadAllBytes(file);
        if (bytes.Length == 0 || bytes.Length % record != 0)
            throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                $"'{file}' has {bytes.Length:N0} bytes, not a positive multiple of the {record}-byte record; the file is truncated or not CIFAR", file);
        long count = bytes.Length / record;
        using var scope = torch.NewDisposeScope();
        var records = torch.tensor(bytes, [count, record]);
        var labels = records.select(1, labelBytes - 1).to_type(ScalarType.Int64);
        long maximum = labels.max().ToInt64();
        if (maximum >= classes)
            throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                $"'{file}' has label {maximum}, but this dataset has {classes} classes; the file is damaged or from another dataset", file);
        var images = records.narrow(1, labelBytes, Pixels).reshape(count, 3, 32, 32).contiguous();
        return new ImageSet(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    private static ImageSet Concatenate(IReadOnlyList<ImageSet> parts)
    {
        var set = new ImageSet(torch.cat(parts.Select(p => p.Images).ToList(), 0), torch.cat(parts.Select(p => p.Labels).ToList(), 0));
        foreach (var p in parts) p.Dispose();
        return set;
    }

    private static IReadOnlyList<string>? ClassNames(string folder, string file, int classes)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path)) return null;
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return names.Count == classes ? names : null;
    }
}
