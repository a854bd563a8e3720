using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>One image per CSV row (<see cref="CsvImageReader"/>).</summary>
public sealed class CsvFormat : DatasetFormat
{
    public override string Name => "Csv";
    public override string Description => "train.csv and test.csv: a label, then the pixels 0..255 channel-major, one image per row";
    public override PredictionTask Task => PredictionTask.Classification;
    public override string Layout => $"{CsvImageReader.TrainFileName} and {CsvImageReader.TestFileName}";
    public override int DetectionOrder => 20;

    public override bool Recognizes(string folder) =>
        File.Exists(Path.Combine(folder, CsvImageReader.TrainFileName)) || File.Exists(Path.Combine(folder, CsvImageReader.TestFileName));

    public override KdDataset Read(string folder, DatasetReadOptions options) =>
        CsvImageReader.Read(folder, options.Channels, options.ImageSize, options.ImageSize);
}

/// <summary>
/// Reads image datasets stored as CSV, one image per row: <c>label,pixel0,...,pixelN</c> with integer pixels 0..255 in
/// channel-major order (all of channel 0 row by row, then channel 1, ...). A header row is optional: a first row whose
/// first field is not an integer is taken as one. Labels are 0-based integers; the class count is the largest label + 1.
/// </summary>
public static class CsvImageReader
{
    public const string TrainFileName = "train.csv";
    public const string TestFileName = "test.csv";

    /// <summary>Reads <c>train.csv</c> and <c>test.csv</c> from <paramref name="folder"/>.</summary>
    public static KdDataset Read(string folder, int channels, int height, int width)
    {
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
            throw new KdException(KdErrorIds.DatasetPathMissing, KdErrorKind.ObjectNotFound,
                $"dataset folder '{root}' does not exist; pass a folder holding {TrainFileName} and {TestFileName}", root);
        return Read(Path.Combine(root, TrainFileName), Path.Combine(root, TestFileName), channels, height, width, source: root);
    }

    public static KdDataset Read(string trainCsv, string testCsv, int channels, int height, int width) =>
        Read(trainCsv, testCsv, channels, height, width, source: null);

    private static KdDataset Read(string trainCsv, string testCsv, int channels, int height, int width, string? source)
    {
        ValidateShape(channels, height, width);
        var trainPath = Path.GetFullPath(trainCsv);
        var testPath = Path.GetFullPath(testCsv);
        foreach (var file in new[] { trainPath, testPath })
            if (!File.Exists(file))
                throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                    $"CSV file '{file}' does not exist", file);

        var train = ReadSplit(trainPath, channels, height, width);
        try
        {
            var test = ReadSplit(testPath, channels, height, width);
            var classes = (int)Math.Max(train.Labels.max().item<long>(), test.Labels.max().item<long>()) + 1;
            var (mean, std) = ChannelStatistics.Compute(train.Images);
            return new KdDataset("csv", source ?? $"{trainPath}, {testPath}", classes, train, test, mean, std);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static void ValidateShape(int channels, int height, int width)
    {
        if (channels < 1 || height < 1 || width < 1)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"image shape must be positive, got channels={channels}, height={height}, width={width}",
                new[] { channels, height, width });
    }

    private static ImageSet ReadSplit(string file, int channels, int height, int width)
    {
        var pixelsPerImage = checked(channels * height * width);
        var pixels = new byte[pixelsPerImage * 64];
        var labels = new List<long>();
        using (var reader = new StreamReader(file))
        using (var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = false }))
        {
            while (parser.Read())
            {
                if (parser.Row == 1 && !long.TryParse(parser[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                    continue;
                if (parser.Count != pixelsPerImage + 1)
                    throw Corrupt(file, $"row {parser.Row} has {parser.Count} columns, expected {pixelsPerImage + 1} " +
                                        $"(a label and {channels}x{height}x{width} pixels)");
                labels.Add(ParseLabel(file, parser));
                var offset = (labels.Count - 1) * pixelsPerImage;
                if (offset + pixelsPerImage > pixels.Length)
                    Array.Resize(ref pixels, pixels.Length * 2);
                ParsePixels(file, parser, pixels.AsSpan(offset, pixelsPerImage));
            }
        }

        if (labels.Count == 0)
            throw Corrupt(file, "has no image rows");

        using var scope = NewDisposeScope();
        var images = frombuffer(pixels, ScalarType.Byte, count: (long)labels.Count * pixelsPerImage)
            .view(labels.Count, channels, height, width).clone();
        var labelTensor = from_array(labels.ToArray());
        return new ImageSet(images.MoveToOuterDisposeScope(), labelTensor.MoveToOuterDisposeScope());
    }

    private static long ParseLabel(string file, CsvParser parser)
    {
        var text = parser[0];
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var label))
            throw Corrupt(file, $"row {parser.Row}, column 1: label '{text}' is not an integer");
        if (label < 0)
            throw Corrupt(file, $"row {parser.Row}, column 1: label {label} is negative; labels are class numbers from 0");
        return label;
    }

    private static void ParsePixels(string file, CsvParser parser, Span<byte> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            var text = parser[i + 1];
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                throw Corrupt(file, $"row {parser.Row}, column {i + 2}: pixel '{text}' is not an integer");
            if (value is < 0 or > 255)
                throw Corrupt(file, $"row {parser.Row}, column {i + 2}: pixel {value} is outside 0..255");
            destination[i] = (byte)value;
        }
    }

    private static KdException Corrupt(string file, string problem) =>
        new(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData, $"'{file}' {problem}", file);
}
