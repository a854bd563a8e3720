using KdTools.Core.Data;

namespace KdTools.Core.Tests.Data;

public class DatasetFormatRegistryTests
{
    [Fact]
    public void Lists_every_layout_in_detection_order_with_its_task()
    {
        var formats = DatasetFormatRegistry.All;

        Assert.Equal(["Shard", "Cifar", "Csv", "Voc", "Cityscapes", "ImageFolder"], formats.Select(f => f.Name).Take(6));
        Assert.Equal(["Shard", "ImageFolder"], formats.Where(f => f.CanStream).Select(f => f.Name));
        Assert.Equal(formats.OrderBy(f => f.DetectionOrder).Select(f => f.Name), formats.Select(f => f.Name));
        Assert.Equal(PredictionTask.Classification, DatasetFormatRegistry.Get("cifar").Task);
        Assert.Equal(PredictionTask.Segmentation, DatasetFormatRegistry.Get("VOC").Task);
        Assert.Equal(PredictionTask.Segmentation, DatasetFormatRegistry.Get("cityscapes").Task);
        Assert.All(formats, f => Assert.False(string.IsNullOrWhiteSpace(f.Description)));
    }

    [Fact]
    public void Unknown_format_name_lists_the_known_ones()
    {
        using var temp = new TempFolder();

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(temp.Path, format: "Coco"));

        Assert.Equal(KdErrorIds.DatasetFormatUnknown, ex.ErrorId);
        Assert.Contains("'Coco'", ex.Message);
        Assert.Contains("Cifar, Csv, Voc, Cityscapes, ImageFolder", ex.Message);
    }

    [Fact]
    public void A_named_format_reads_a_folder_detection_would_give_to_another()
    {
        // train.csv makes detection pick CSV; the image-folder layout is there too and is read when asked for.
        using var temp = new TempFolder();
        File.WriteAllLines(temp.Combine("train.csv"), ["0,1"]);
        foreach (var split in new[] { "train", "test" })
        foreach (var label in new[] { "a", "b" })
        {
            Directory.CreateDirectory(temp.Combine(split, label));
            ImageFiles.WriteBmp(temp.Combine(split, label, "x.bmp"), 2, 2, new byte[12]);
        }

        Assert.Equal("Csv", DatasetReader.Detect(temp.Path).Name);
        using var dataset = DatasetReader.Read(temp.Path, format: "imagefolder", imageSize: 2);
        Assert.Equal("imagefolder", dataset.Name);
        Assert.Equal(2, dataset.Train.Count);
    }

    [Fact]
    public void A_format_registered_from_outside_is_detected_and_read()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine(MarkerFormat.MarkerFile), "");
        DatasetFormatRegistry.Register(new MarkerFormat());

        Assert.Equal(MarkerFormat.FormatName, DatasetReader.Detect(temp.Path).Name);
        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(temp.Path));
        Assert.Equal(MarkerFormat.FormatName, ex.Target);
    }

    /// <summary>A layout recognised by one marker file; reading it reports that it ran.</summary>
    private sealed class MarkerFormat : DatasetFormat
    {
        public const string FormatName = "TestMarker";
        public const string MarkerFile = "kdtools-test-marker";
        public override string Name => FormatName;
        public override string Description => "test layout";
        public override PredictionTask Task => PredictionTask.Classification;
        public override string Layout => MarkerFile;
        public override int DetectionOrder => 1000;
        public override bool Recognizes(string folder) => File.Exists(Path.Combine(folder, MarkerFile));

        public override KdDataset Read(string folder, DatasetReadOptions options) =>
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData, "read by the test format", FormatName);
    }
}
