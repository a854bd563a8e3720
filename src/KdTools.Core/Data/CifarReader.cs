using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Reads the binary versions of CIFAR-10 and CIFAR-100 (the <c>*-binary.tar.gz</c> archives, extracted), detecting which
/// one a folder holds. Each file is read in one piece and decoded with tensor ops.
/// </summary>
internal static class CifarReader
{
    private const int ImageSide = 32;
    private const int PixelsPerImage = 3 * ImageSide * ImageSide;

    private sealed record Layout(
        string Name, int Classes, int LabelBytes, int LabelOffset, string[] TrainFiles, string TestFile,
        string ClassNamesFile, string Subfolder, float[] Mean, float[] Std)
    {
        public int RecordLength => LabelBytes + PixelsPerImage;
        public IEnumerable<string> Files => TrainFiles.Append(TestFile);
    }

    private static readonly Layout Cifar10 = new(
        "cifar10", 10, LabelBytes: 1, LabelOffset: 0,
        TrainFiles: Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray(), TestFile: "test_batch.bin",
        ClassNamesFile: "batches.meta.txt", Subfolder: "cifar-10-batches-bin",
        Mean: [0.4914f, 0.4822f, 0.4465f], Std: [0.2470f, 0.2435f, 0.2616f]);

    // Records start with the coarse (20 superclasses) then the fine (100 classes) label; the fine one is the task.
    private static readonly Layout Cifar100 = new(
        "cifar100", 100, LabelBytes: 2, LabelOffset: 1,
        TrainFiles: ["train.bin"], TestFile: "test.bin",
        ClassNamesFile: "fine_label_names.txt", Subfolder: "cifar-100-binary",
        Mean: [0.5071f, 0.4865f, 0.4409f], Std: [0.2673f, 0.2564f, 0.2762f]);

    private static readonly Layout[] Layouts = [Cifar10, Cifar100];

    /// <summary>
    /// Reads CIFAR-10 (<c>data_batch_1.bin</c>..<c>data_batch_5.bin</c>, <c>test_batch.bin</c>) or CIFAR-100
    /// (<c>train.bin</c>, <c>test.bin</c>) from <paramref name="path"/> or from its <c>cifar-10-batches-bin</c> /
    /// <c>cifar-100-binary</c> subfolder. Class names come from <c>batches.meta.txt</c> / <c>fine_label_names.txt</c>
    /// when present.
    /// </summary>
    public static KdDataset Read(string path)
    {
        var root = Path.GetFullPath(path);
        if (!Directory.Exists(root))
            throw new KdException(KdErrorIds.DatasetPathMissing, KdErrorKind.ObjectNotFound,
                $"dataset folder '{root}' does not exist; pass a CIFAR-10/100 binary folder, or use the synthetic dataset", root);

        var (folder, layout) = Locate(root);
        foreach (var file in layout.Files)
            if (!File.Exists(Path.Combine(folder, file)))
                throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                    $"{layout.Name} file '{file}' is missing from '{folder}'; it needs {string.Join(", ", layout.Files)}",
                    Path.Combine(folder, file));

        var classNames = ReadClassNames(folder, layout);
        var train = ReadSplit(folder, layout, layout.TrainFiles);
        try
        {
            var test = ReadSplit(folder, layout, [layout.TestFile]);
            return new KdDataset(layout.Name, folder, layout.Classes, train, test, layout.Mean, layout.Std, classNames);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="folder"/> or its CIFAR-named subfolder holds any CIFAR binary file.</summary>
    public static bool HasLayout(string folder) =>
        Layouts.Any(layout => HasAnyFile(folder, layout) || HasAnyFile(Path.Combine(folder, layout.Subfolder), layout));

    private static (string Folder, Layout Layout) Locate(string root)
    {
        var own = Layouts.FirstOrDefault(layout => HasAnyFile(root, layout));
        if (own is not null)
            return (root, own);

        var inSubfolders = Layouts
            .Select(layout => (Folder: Path.Combine(root, layout.Subfolder), Layout: layout))
            .Where(candidate => HasAnyFile(candidate.Folder, candidate.Layout))
            .ToList();
        if (inSubfolders.Count == 1)
            return inSubfolders[0];
        if (inSubfolders.Count > 1)
            throw new KdException(KdErrorIds.DatasetFormatUnknown, KdErrorKind.InvalidArgument,
                $"'{root}' holds both CIFAR-10 and CIFAR-100; pass one of: " +
                string.Join(", ", inSubfolders.Select(candidate => $"'{candidate.Folder}'")), root);

        throw new KdException(KdErrorIds.DatasetFormatUnknown, KdErrorKind.InvalidData,
            $"'{root}' is not a CIFAR binary folder: expected CIFAR-10 ({string.Join(", ", Cifar10.Files)}) or " +
            $"CIFAR-100 ({string.Join(", ", Cifar100.Files)}), directly or in a '{Cifar10.Subfolder}' or " +
            $"'{Cifar100.Subfolder}' subfolder", root);
    }

    private static bool HasAnyFile(string folder, Layout layout) =>
        Directory.Exists(folder) && layout.Files.Any(file => File.Exists(Path.Combine(folder, file)));

    private static IReadOnlyList<string>? ReadClassNames(string folder, Layout layout)
    {
        var file = Path.Combine(folder, layout.ClassNamesFile);
        if (!File.Exists(file))
            return null;
        var names = File.ReadLines(file).Select(line => line.Trim()).Where(line => line.Length > 0).ToList();
        if (names.Count != layout.Classes)
            throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                $"'{file}' lists {names.Count} class names but {layout.Name} has {layout.Classes}; restore the file " +
                "from the dataset archive or delete it to use numbered classes", file);
        return names;
    }

    private static ImageSet ReadSplit(string folder, Layout layout, string[] files)
    {
        using var scope = NewDisposeScope();
        var parts = files.Select(file => ReadRecords(Path.Combine(folder, file), layout)).ToList();
        var images = parts.Count == 1 ? parts[0].Images : cat(parts.Select(part => part.Images).ToList(), 0);
        var labels = parts.Count == 1 ? parts[0].Labels : cat(parts.Select(part => part.Labels).ToList(), 0);
        return new ImageSet(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>One file as uint8 images [n, 3, 32, 32] and int64 labels [n]; temporaries go to the caller's scope.</summary>
    private static (Tensor Images, Tensor Labels) ReadRecords(string file, Layout layout)
    {
        var bytes = File.ReadAllBytes(file);
        if (bytes.Length == 0 || bytes.Length % layout.RecordLength != 0)
            throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                $"'{file}' is {bytes.Length} bytes, not a positive multiple of the {layout.Name} record length " +
                $"{layout.RecordLength}; the file is truncated or not {layout.Name} binary data, extract it again", file);

        var count = bytes.Length / layout.RecordLength;
        // from_array shares the managed buffer; the slices below copy out of it before the scope ends.
        var records = from_array(bytes).view(count, layout.RecordLength);
        var labels = records.select(1, layout.LabelOffset).to_type(ScalarType.Int64);
        var images = records.narrow(1, layout.LabelBytes, PixelsPerImage).reshape(count, 3, ImageSide, ImageSide);

        var largest = labels.max().item<long>();
        if (largest >= layout.Classes)
        {
            var record = labels.argmax().item<long>();
            throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                $"'{file}' record {record} has label {largest}, but {layout.Name} labels are 0..{layout.Classes - 1}; " +
                "the file is damaged or belongs to the other CIFAR variant", file);
        }
        return (images, labels);
    }
}
