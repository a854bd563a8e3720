using System.Text;
using KdTools.Core;
using KdTools.Core.Checkpoints;
using KdTools.Core.Data;
using KdTools.Core.Data.Download;
using KdTools.Core.Export;
using KdTools.Core.Models;
using KdTools.Core.Sweeps;
using KdTools.Core.Training;
using static TorchSharp.torch;

namespace KdTools.Fuzz;

/// <summary>Every reader KdTools runs on a user's files, as a fuzz target (docs/fuzzing.md lists them).</summary>
public static class FuzzTargets
{
    private const string SeedArchitecture = "resnet8";
    private const int SeedClasses = 10;

    // CSV datasets are read at a fixed small shape, so a row is a label and four pixels.
    private const int CsvChannels = 1, CsvImageSize = 2;

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new()
        {
            Name = "safetensors",
            Description = "SafeTensorsFile.Read: a safetensors header and its tensors (every checkpoint and state dict is read by it)",
            Run = input => SafeTensorsFile.Read(input.Write("model.safetensors", input.Bytes)).Dispose(),
            Seeds = SafeTensorsSeeds,
            MemoryFactor = 8,
        },
        new()
        {
            Name = "checkpoint",
            Description = "ModelImport.Load of a KdTools checkpoint (Import-KdModel, New-Teacher -Path): metadata, architecture, strict load",
            Run = input => ModelImport.Load(new ModelImportRequest { Path = input.Write("model.safetensors", input.Bytes) }).Model.Dispose(),
            Seeds = CheckpointSeeds,
            MemoryFactor = 8,
        },
        new()
        {
            Name = "state-dict",
            Description = "ModelImport.Load of a PyTorch state dict as resnet8 for 10 classes (Import-KdModel -Architecture -Classes)",
            Run = input => ModelImport.Load(new ModelImportRequest
            {
                Path = input.Write("model.safetensors", input.Bytes), Architecture = SeedArchitecture, Classes = SeedClasses,
            }).Model.Dispose(),
            Seeds = StateDictSeeds,
            MemoryFactor = 8,
        },
        new()
        {
            Name = "shard",
            Description = "Get-KdDataset -Path on a shard folder (train.kdshard = part 1, test.kdshard = part 2): header, labels, CRC-checked records",
            Run = input =>
            {
                input.Write("train.kdshard", input.Part(0));
                input.Write("test.kdshard", input.Part(1));
                DatasetReader.Read(input.Scratch, "Shard", loading: DatasetLoading.InMemory).Dispose();
            },
            Seeds = ShardSeeds,
            MemoryFactor = 8,
        },
        new()
        {
            Name = "cifar10",
            Description = "Get-KdDataset -Path on a CIFAR-10 folder (data_batch_1..5.bin = parts 1-5, test_batch.bin = part 6, batches.meta.txt = part 7)",
            Run = input =>
            {
                for (int i = 0; i < 5; i++) input.Write($"data_batch_{i + 1}.bin", input.Part(i));
                input.Write("test_batch.bin", input.Part(5));
                if (input.PartCount > 6) input.Write("batches.meta.txt", input.Part(6));
                DatasetReader.Read(input.Scratch, "Cifar").Dispose();
            },
            Seeds = () => CifarSeeds(labelBytes: 1, classes: 10, files: 6, "batches.meta.txt"),
            MemoryFactor = 8,
        },
        new()
        {
            Name = "cifar100",
            Description = "Get-KdDataset -Path on a CIFAR-100 folder (train.bin = part 1, test.bin = part 2, fine_label_names.txt = part 3)",
            Run = input =>
            {
                input.Write("train.bin", input.Part(0));
                input.Write("test.bin", input.Part(1));
                if (input.PartCount > 2) input.Write("fine_label_names.txt", input.Part(2));
                DatasetReader.Read(input.Scratch, "Cifar").Dispose();
            },
            Seeds = () => CifarSeeds(labelBytes: 2, classes: 100, files: 2, "fine_label_names.txt"),
            MemoryFactor = 8,
        },
        new()
        {
            Name = "csv",
            Description = "Get-KdDataset -Path on a CSV folder (train.csv = part 1, test.csv = part 2), 1 channel of 2x2 pixels",
            Run = input =>
            {
                input.Write("train.csv", input.Part(0));
                input.Write("test.csv", input.Part(1));
                DatasetReader.Read(input.Scratch, "Csv", imageSize: CsvImageSize, channels: CsvChannels).Dispose();
            },
            Seeds = CsvSeeds,
            // CsvHelper keeps a field buffer and the reader a string per cell: a few dozen bytes per input byte.
            MemoryFactor = 64,
            Instrument = ["CsvHelper.dll"],
        },
        new()
        {
            Name = "label-png",
            Description = "LabelMapPng.Read of a label map (palette or grey, 1-8 bits), then VOC's and Cityscapes' id mappings",
            Run = input =>
            {
                var file = input.Write("label.png", ImageBytes.WithPngCrcs(input.Bytes));
                var labels = LabelMapPng.Read(file);
                foreach (var lookup in new[] { VocFormat.LabelLookup, CityscapesFormat.LabelLookup })
                {
                    try
                    {
                        SegmentationFolderReader.ToClasses(labels, lookup, file);
                    }
                    catch (KdException e) when (e.ErrorId == KdErrorIds.DatasetFileCorrupt)
                    {
                        // A value that is no class of this dataset: refused, the other mapping is still tried.
                    }
                }
            },
            Seeds = LabelPngSeeds,
            // Deflate expands up to 1,032:1; the rows are then unfiltered and unpacked (two more copies).
            MemoryFactor = 4 * 1100,
        },
        new()
        {
            Name = "image",
            Description = "An image file through the image-folder loader (PNG, JPEG, BMP, TGA, GIF via StbImageSharp) to RGB, resized to 8x8",
            Run = input =>
            {
                var image = ImageFolderReader.Decode(input.Write("image.img", ImageBytes.WithPngCrcs(input.Bytes)));
                ImageFolderReader.ToTensor(image, 8).Dispose();
            },
            Seeds = ImageSeeds,
            MemoryFactor = 4 * 1100,
            Instrument = ["StbImageSharp.dll"],
        },
        new()
        {
            Name = "segmentation",
            Description = "Get-KdDataset -Path on a VOC folder of one image (part 1) and its label PNG (part 2): decoding, size checks, canvas",
            Run = input =>
            {
                var image = ImageBytes.WithPngCrcs(input.Part(0));
                var label = ImageBytes.WithPngCrcs(input.Part(1));
                input.Write("JPEGImages/a.jpg", image);
                input.Write("SegmentationClass/a.png", label);
                input.Write("ImageSets/Segmentation/train.txt", "a\n"u8.ToArray());
                input.Write("ImageSets/Segmentation/val.txt", "a\n"u8.ToArray());
                DatasetReader.Read(input.Scratch, "Voc", imageSize: 8).Dispose();
            },
            Seeds = SegmentationSeeds,
            MemoryFactor = 4 * 1100,
            Instrument = ["StbImageSharp.dll"],
        },
        new()
        {
            Name = "archive",
            Description = "SafeTarGz.Extract of a downloaded .tar.gz into a fresh folder (Save-KdDataset): names, entry types, sizes",
            Run = input => SafeTarGz.Extract(input.Write("archive.tar.gz", input.Bytes), Path.Combine(input.Scratch, "out"), null, default),
            Seeds = ArchiveSeeds,
            MemoryFactor = 64,
        },
        new()
        {
            Name = "onnx",
            Description = "OnnxRuntimeNet.Load of an .onnx file (Import-KdModel x.onnx): protobuf, the checks before ONNX Runtime, the session, the metadata",
            Run = input => OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = input.Write("model.onnx", input.Bytes), Threads = 1 }).Dispose(),
            Seeds = OnnxSeeds,
            // The file is read, parsed (its weights copied once more) and written: a few copies; ONNX Runtime's own memory is native.
            MemoryFactor = 8,
            Instrument = ["Google.Protobuf.dll"],
        },
        new()
        {
            Name = "plan-cells",
            Description = "PlanRow.Read of every row of a CSV plan: each cell to its column's type (Import-Csv plan.csv | Invoke-Distillation)",
            Run = input => ConvertPlan(input.Bytes),
            Seeds = PlanSeeds,
            Refusal = e => e is KdException { ErrorId: KdErrorIds.TrainingSettingInvalid },
            MemoryFactor = 64,
        },
        new()
        {
            Name = "method-option",
            Description = "The -MethodOption text of a plan cell or a run's Options column (\"Temperature=2;Alpha=0.5\"): MethodOptionText.Parse, then MethodRegistry.Create of every method with it",
            Run = input => BindMethodOptions(input.Bytes),
            Seeds = MethodOptionSeeds,
            Refusal = e => e is FormatException,
            MemoryFactor = 64,
        },
    ];

    /// <summary>
    /// What Invoke-Distillation does with -MethodOption text: Core's parser (MethodOptionText.Parse; its
    /// FormatException is reported as a parameter transformation error), then each registered method is created with the
    /// options (MethodRegistry.Create: unknown names are KdTools.Method.OptionUnknown, values that are not exactly the
    /// option's type or break its rules KdTools.Method.OptionInvalid). Read when any method takes them; otherwise the first
    /// method's refusal.
    /// </summary>
    private static void BindMethodOptions(byte[] bytes)
    {
        // As Invoke-Distillation hands them to Core: a dictionary of the given values, keys in any casing.
        var options = KdTools.Core.Methods.MethodOptionText.Parse(Encoding.UTF8.GetString(bytes));
        KdException? first = null;
        bool accepted = false;
        foreach (var method in KdTools.Core.Methods.MethodRegistry.All)
        {
            try
            {
                using var created = KdTools.Core.Methods.MethodRegistry.Create(method.Name, options);
                accepted = true;
            }
            catch (KdException e) when (e.ErrorId.StartsWith("KdTools.", StringComparison.Ordinal))
            {
                first ??= e;
            }
        }
        if (!accepted && first is not null) throw first;
    }

    /// <summary>Every method's defaults as a run's Options column writes them (ToCompactString), and a few typed by hand.</summary>
    private static IEnumerable<(string, byte[])> MethodOptionSeeds()
    {
        foreach (var method in KdTools.Core.Methods.MethodRegistry.All)
        {
            var text = KdTools.Core.Methods.MethodOptionBinder.Bind(method.Name, method.OptionsType, null).ToCompactString();
            if (text.Length > 0) yield return ($"{method.Name.ToLowerInvariant()}.txt", Encoding.UTF8.GetBytes(text));
        }
        yield return ("typed.txt", "Temperature=2; alpha = 0.5 ;"u8.ToArray());
        yield return ("empty.txt", []);
    }

    /// <summary>
    /// A plan's rows as Invoke-Distillation reads them: PowerShell's Import-Csv splits the rows (CsvHelper stands in for
    /// it here; a row it cannot split is not the cmdlet's input), then Core's <see cref="PlanRow.Read"/> converts each
    /// non-empty cell of a known column to its type. KdTools.Training.SettingInvalid is the documented refusal (the
    /// cmdlet reports it as that row's error, naming the column).
    /// </summary>
    private static void ConvertPlan(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes));
        using var parser = new CsvHelper.CsvParser(reader, System.Globalization.CultureInfo.InvariantCulture);
        string[]? header = null;
        KdException? first = null;
        try
        {
            while (parser.Read())
            {
                var record = parser.Record ?? [];
                if (header is null) { header = record; continue; }
                var cells = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                for (int i = 0; i < record.Length && i < header.Length; i++) cells.TryAdd(header[i].Trim(), record[i]);
                try
                {
                    var row = PlanRow.Read(cells);
                    foreach (var (column, type) in PlanRow.Columns)
                        if (row.Values.TryGetValue(column, out var value) && !type.IsInstanceOfType(value))
                            throw new InvalidOperationException($"PlanRow gave a {value.GetType()} for {column}'s {type}");
                }
                catch (KdException e) when (e.ErrorId == KdErrorIds.TrainingSettingInvalid)
                {
                    first ??= e;
                }
            }
        }
        catch (CsvHelper.CsvHelperException)
        {
            return;
        }
        if (first is not null) throw first;
    }

    private static IEnumerable<(string, byte[])> ArchiveSeeds()
    {
        static byte[] TarGz(params (string Name, byte[]? Data)[] entries)
        {
            var output = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            using (var tar = new System.Formats.Tar.TarWriter(gzip, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
                foreach (var (name, data) in entries)
                {
                    var entry = new System.Formats.Tar.PaxTarEntry(
                        data is null ? System.Formats.Tar.TarEntryType.Directory : System.Formats.Tar.TarEntryType.RegularFile, name);
                    if (data is not null) entry.DataStream = new MemoryStream(data);
                    tar.WriteEntry(entry);
                }
            return output.ToArray();
        }
        yield return ("cifar.tar.gz", TarGz(("cifar-10-batches-bin/", null), ("cifar-10-batches-bin/batches.meta.txt", "airplane\nautomobile\n"u8.ToArray()),
            ("cifar-10-batches-bin/test_batch.bin", ImageBytes.Pattern(3073))));
        yield return ("flat.tar.gz", TarGz(("./a.txt", "a"u8.ToArray()), ("b/c/d.bin", [1, 2, 3])));
    }

    private static IEnumerable<(string, byte[])> PlanSeeds()
    {
        yield return ("plan.csv", Encoding.UTF8.GetBytes(
            "Student,Method,Options,Epochs,LearningRate,Nesterov,LrSchedule,LrMilestones,Seed,KdWeight\n" +
            "resnet8,KD,Temperature=4;Alpha=0.9,2,0.05,true,MultiStep,\"0.5,0.75\",1,\n" +
            "resnet20,FitNet,,3,1e-2,0,Poly,,42,0.9\n"));
    }

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", All.Select(t => t.Name))}");

    private static IEnumerable<(string, byte[])> SafeTensorsSeeds()
    {
        using var scope = NewDisposeScope();
        var types = new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
            ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool };
        var all = types.Select((type, i) => KeyValuePair.Create($"t{i}", arange(6).reshape(2, 3).to(type))).ToList();
        all.Add(KeyValuePair.Create("empty", zeros(0, 4)));
        all.Add(KeyValuePair.Create("scalar", tensor(1.5f)));
        yield return ("dtypes.safetensors", WriteSafeTensors(all, new Dictionary<string, string> { ["note"] = "seed", ["ünï"] = "cödé" }));
        yield return ("one.safetensors", WriteSafeTensors([KeyValuePair.Create("w", ones(2, 2))], new Dictionary<string, string>()));
        yield return ("none.safetensors", WriteSafeTensors([], new Dictionary<string, string>()));
    }

    private static IEnumerable<(string, byte[])> CheckpointSeeds()
    {
        using var model = ArchitectureRegistry.Create(SeedArchitecture, SeedClasses, seed: 1);
        model.Normalization = new InputNormalization([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
        model.InputSize = new ImageSize(32, 32);
        yield return ("resnet8.safetensors", Saved(path => ModelFile.Save(path, model,
            new ModelProvenance { Method = "KD", Dataset = "synthetic", Epochs = 1, TestTop1 = 0.5, Recipe = "Default" })));
    }

    private static IEnumerable<(string, byte[])> StateDictSeeds()
    {
        using var model = ArchitectureRegistry.Create(SeedArchitecture, SeedClasses, seed: 1);
        // As safetensors.torch.save_file(model.state_dict()) writes it, without BatchNorm's counters.
        var state = ModuleState.Collect(model, "").Where(e => !e.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        yield return ("resnet8-pytorch.safetensors", WriteSafeTensors(state, new Dictionary<string, string> { ["format"] = "pt" }));
    }

    private static IEnumerable<(string, byte[])> OnnxSeeds()
    {
        using var model = ArchitectureRegistry.Create(SeedArchitecture, SeedClasses, seed: 1);
        model.Normalization = new InputNormalization([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
        // At 8x8 pixels: the graph is the same as at 32x32, and the weights (resnet8's, about 80k floats) are the file.
        yield return ("resnet8-8x8.onnx", OnnxExport.ToBytes(model,
            new ModelProvenance { Method = "KD", Dataset = "synthetic", Epochs = 1, TestTop1 = 0.5, Recipe = "Default" },
            new OnnxExportOptions { InputSize = new ImageSize(8, 8), IncludeNormalization = true, ClassNames = [.. Enumerable.Range(0, SeedClasses).Select(c => $"class{c}")], Seed = 1 }));
    }

    private static IEnumerable<(string, byte[])> ShardSeeds()
    {
        foreach (var (channels, side) in new[] { (1, 2), (3, 4) })
        {
            using var scope = NewDisposeScope();
            ImageSet Split(int count) => new(
                tensor(ImageBytes.Pattern(count * channels * side * side), [count, channels, side, side], ScalarType.Byte),
                tensor(Enumerable.Range(0, count).Select(i => (long)(i % 2)).ToArray()));
            using var dataset = new KdDataset("seed", "fuzz", 2, Split(3), Split(2),
                Enumerable.Repeat(0.5f, channels).ToArray(), Enumerable.Repeat(0.25f, channels).ToArray(), ["cat", "dog"]);
            var folder = Directory.CreateTempSubdirectory("kdfuzz-seed").FullName;
            try
            {
                ShardFile.WriteDataset(folder, dataset);
                yield return ($"shard-{channels}x{side}x{side}.bin", FuzzInput.Join(
                    File.ReadAllBytes(ShardFile.PathOf(folder, "train")), File.ReadAllBytes(ShardFile.PathOf(folder, "test"))));
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static IEnumerable<(string, byte[])> CifarSeeds(int labelBytes, int classes, int files, string namesFile)
    {
        const int pixels = 3 * 32 * 32;
        byte[] Records(int count, int first) => Enumerable.Range(0, count).SelectMany(r =>
        {
            var record = new byte[labelBytes + pixels];
            for (int b = 0; b < labelBytes; b++) record[b] = (byte)((first + r) % (b == labelBytes - 1 ? classes : 20));
            ImageBytes.Pattern(pixels).CopyTo(record, labelBytes);
            return record;
        }).ToArray();
        var parts = Enumerable.Range(0, files).Select(f => Records(files > 2 ? 1 : 2, f)).ToArray();
        yield return ($"{namesFile.Split('.')[0]}-plain.bin", FuzzInput.Join(parts));
        var names = Encoding.UTF8.GetBytes(string.Join("\n", Enumerable.Range(0, classes).Select(c => $"class{c}")) + "\n");
        yield return ($"{namesFile.Split('.')[0]}-named.bin", FuzzInput.Join([.. parts, names]));
    }

    private static IEnumerable<(string, byte[])> CsvSeeds()
    {
        static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);
        yield return ("header.csv", FuzzInput.Join(Text("label,p0,p1,p2,p3\n0,0,64,128,255\n1,1,2,3,4\n"), Text("label,p0,p1,p2,p3\n1,9,8,7,6\n")));
        yield return ("plain.csv", FuzzInput.Join(Text("0,0,64,128,255\r\n1,1,2,3,4\r\n2,5,5,5,5\r\n"), Text("2,9,8,7,6\r\n0,1,1,1,1\r\n")));
        yield return ("quoted.csv", FuzzInput.Join(Text("\"label\",\"a\",\"b\",\"c\",\"d\"\n\"0\",\"1\",\"2\",\"3\",\"4\"\n1, 5,6,7,8\n"), Text("0,1,2,3,4")));
    }

    private static IEnumerable<(string, byte[])> LabelPngSeeds()
    {
        var values = Enumerable.Range(0, 12).Select(i => (byte)(i == 11 ? 255 : i)).ToArray();
        yield return ("voc-palette.png", LabelMapPng.Encode(values, 4, 3));
        yield return ("grey8-up.png", ImageBytes.Png(4, 3, 0, 8, [7, 8, 11, 12, 13, 17, 19, 20, 21, 26, 33, 0], filter: 2));
        yield return ("grey4.png", ImageBytes.Png(4, 2, 0, 4, [0x12, 0x34, 0x56, 0x7F]));
        yield return ("palette2.png", ImageBytes.Png(5, 2, 3, 2, [0b00011011, 0b00000000, 0b11100100, 0b01000000],
            palette: [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0]));
        yield return ("grey1.png", ImageBytes.Png(9, 2, 0, 1, [0b10101010, 0b10000000, 0b01010101, 0b00000000]));
        foreach (var fixture in Fixtures("*_gtFine_labelIds.png").Take(1)) yield return ("cityscapes-labelids.png", fixture);
    }

    private static IEnumerable<(string, byte[])> ImageSeeds()
    {
        var rgb = ImageBytes.Pattern(4 * 3 * 3);
        yield return ("rgb.png", ImageBytes.Png(4, 3, 2, 8, rgb, filter: 2));
        yield return ("grey.png", ImageBytes.Png(4, 3, 0, 8, ImageBytes.Pattern(12)));
        yield return ("rgba.png", ImageBytes.Png(3, 2, 6, 8, ImageBytes.Pattern(3 * 2 * 4)));
        yield return ("palette.png", LabelMapPng.Encode(ImageBytes.Pattern(12).Select(v => (byte)(v % 21)).ToArray(), 4, 3));
        yield return ("rgb.bmp", ImageBytes.Bmp(4, 3, rgb));
        yield return ("rgb.tga", ImageBytes.Tga(4, 3, rgb));
        yield return ("pixel.gif", ImageBytes.Gif());
        foreach (var fixture in Fixtures("*.jpg").Take(1)) yield return ("voc.jpg", fixture);
    }

    private static IEnumerable<(string, byte[])> SegmentationSeeds()
    {
        var rgb = ImageBytes.Pattern(4 * 3 * 3);
        var labels = Enumerable.Range(0, 12).Select(i => (byte)(i % 3 == 2 ? 255 : i % 21)).ToArray();
        yield return ("png-pair.bin", FuzzInput.Join(ImageBytes.Png(4, 3, 2, 8, rgb), LabelMapPng.Encode(labels, 4, 3)));
        yield return ("bmp-pair.bin", FuzzInput.Join(ImageBytes.Bmp(4, 3, rgb), ImageBytes.Png(4, 3, 0, 8, labels)));
    }

    /// <summary>Small files of the unit tests' fixtures (tests/KdTools.Core.Tests/Data/Fixtures, written by
    /// make_fixtures.py from real formats), when the seeds are made from a checkout.</summary>
    private static IEnumerable<byte[]> Fixtures(string pattern)
    {
        var folder = Path.Combine(RepositoryRoot(), "tests", "KdTools.Core.Tests", "Data", "Fixtures");
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder, pattern, SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(File.ReadAllBytes).Where(bytes => bytes.Length <= 4096)
            : [];
    }

    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "KdTools.sln"))) return folder.FullName;
        return Directory.GetCurrentDirectory();
    }

    private static byte[] WriteSafeTensors(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata) =>
        Saved(path => SafeTensorsFile.Write(path, tensors, metadata));

    private static byte[] Saved(Action<string> write)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kdfuzz-seed-{Guid.NewGuid():N}.safetensors");
        try
        {
            write(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
