using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Reads image datasets stored as CSV, one image per row: <c>label,pixel0,...,pixelN</c> with integer pixels 0..255 in
/// channel-major order (all of channel 0 row by row, then channel 1, ...). A header row is optional: a first row whose
/// first field is not an integer is taken as one. Labels are 0-based integers; the class count is the largest label + 1,
/// and every class must have training images (a typo'd label such as 70 in a 3-class set is reported with its rows,
/// not turned into a 71-class dataset).
/// </summary>
internal static class CsvImageReader
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

        var (train, trainRows) = ReadSplit(trainPath, channels, height, width);
        try
        {
            var (test, testRows) = ReadSplit(testPath, channels, height, width);
            try
            {
                var classes = RequireTrainingImages(trainRows, testRows, trainPath, testPath);
                var (mean, std) = ChannelStatistics.Compute(train);
                return new KdDataset("csv", source ?? $"{trainPath}, {testPath}", classes, train, test, mean, std);
            }
            catch
            {
                test.Dispose();
                throw;
            }
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Every class from 0 to the largest label must have training images: a class without any cannot be learned, and
    /// is almost always a typo'd label that inflated the class count. The error names the empty classes and the rows of
    /// the labels beyond the first of them. Returns the class count. The empty classes are found from the gaps between
    /// the labels present, never by counting up to the largest label (a label of 2,000,000,000 in a 51-byte file would
    /// otherwise take minutes and gigabytes to report).
    /// </summary>
    private static int RequireTrainingImages(IReadOnlyDictionary<long, List<long>> trainRows,
        IReadOnlyDictionary<long, List<long>> testRows, string trainPath, string testPath)
    {
        long largest = Math.Max(trainRows.Keys.Max(), testRows.Keys.Max());
        var present = trainRows.Keys.Order().ToList();
        var empty = new List<(long First, long Last)>();
        long previous = -1;
        foreach (var label in present.Append(largest + 1))
        {
            if (label > previous + 1) empty.Add((previous + 1, label - 1));
            previous = label;
        }
        // Labels are at least 0 and distinct, so no empty class means they are exactly 0..present.Count - 1.
        if (empty.Count == 0) return present.Count;

        long firstEmpty = empty[0].First;
        var suspects = trainRows.Select(r => (File: trainPath, Label: r.Key, Rows: r.Value))
            .Concat(testRows.Select(r => (File: testPath, Label: r.Key, Rows: r.Value)))
            .Where(r => r.Label > firstEmpty)
            .OrderByDescending(r => r.Label)
            .Take(5)
            .Select(r => $"label {r.Label} in {Path.GetFileName(r.File)} row{(r.Rows.Count > 1 ? "s" : "")} {DescribeRows(r.Rows)}")
            .ToList();
        var culprits = suspects.Count > 0 ? $"; the labels above {firstEmpty} are {string.Join(", ", suspects)}" : "";
        bool one = empty.Count == 1 && empty[0].First == empty[0].Last;
        throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
            $"{DescribeClasses(empty)} of the {largest + 1} classes (0..{largest}, from the largest label) ha{(one ? "s" : "ve")} " +
            $"no training images in '{trainPath}'{culprits}; fix the labels (classes are numbered 0..C-1 and each needs training images)",
            trainPath);
    }

    /// <summary>"class 3" or "classes 3..69, 71".</summary>
    private static string DescribeClasses(IReadOnlyList<(long First, long Last)> runs)
    {
        bool one = runs.Count == 1 && runs[0].First == runs[0].Last;
        var text = runs.Take(5).Select(run => run.First == run.Last ? $"{run.First}" : $"{run.First}..{run.Last}");
        return (one ? "class " : "classes ") + string.Join(", ", text) + (runs.Count > 5 ? ", …" : "");
    }

    private static string DescribeRows(List<long> rows) =>
        string.Join(", ", rows.Take(5)) + (rows.Count > 5 ? $" and {rows.Count - 5} more" : "");

    private static void ValidateShape(int channels, int height, int width)
    {
        if (channels < 1 || height < 1 || width < 1)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"image shape must be positive, got channels={channels}, height={height}, width={width}",
                new[] { channels, height, width });
    }

    /// <summary>The split's images and labels, and for each label the (1-based) file rows holding it.</summary>
    private static (ImageSet Set, Dictionary<long, List<long>> RowsByLabel) ReadSplit(string file, int channels, int height, int width)
    {
        var pixelsPerImage = checked(channels * height * width);
        var pixels = new byte[pixelsPerImage * 64];
        var labels = new List<long>();
        var rowsByLabel = new Dictionary<long, List<long>>();
        long row = 0;
        try
        {
            using (var reader = new StreamReader(file))
            using (var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = false }))
            {
                while (parser.Read())
                {
                    row = parser.Row;
                    if (parser.Row == 1 && !long.TryParse(parser[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                        continue;
                    if (parser.Count != pixelsPerImage + 1)
                        throw Corrupt(file, $"row {parser.Row} has {parser.Count} columns, expected {pixelsPerImage + 1} " +
                                            $"(a label and {channels}x{height}x{width} pixels)");
                    var label = ParseLabel(file, parser);
                    labels.Add(label);
                    if (!rowsByLabel.TryGetValue(label, out var rows)) rowsByLabel[label] = rows = [];
                    rows.Add(parser.Row);
                    var offset = (labels.Count - 1) * pixelsPerImage;
                    if (offset + pixelsPerImage > pixels.Length)
                        Array.Resize(ref pixels, pixels.Length * 2);
                    ParsePixels(file, parser, pixels.AsSpan(offset, pixelsPerImage));
                }
            }
        }
        catch (CsvHelperException e)
        {
            // A field CsvHelper cannot parse (a stray quote inside an unquoted field, an unclosed quote) is the file's error.
            throw Corrupt(file, $"row {Math.Max(row, 1)} is not valid CSV ({e.Message.Split('\n', 2)[0].Trim()}); a field that holds a quote, " +
                                "comma or line break must be in double quotes, with the quotes inside it doubled");
        }

        if (labels.Count == 0)
            throw Corrupt(file, "has no image rows");

        using var scope = NewDisposeScope();
        var images = frombuffer(pixels, ScalarType.Byte, count: (long)labels.Count * pixelsPerImage)
            .view(labels.Count, channels, height, width).clone();
        var labelTensor = from_array(labels.ToArray());
        return (new ImageSet(images.MoveToOuterDisposeScope(), labelTensor.MoveToOuterDisposeScope()), rowsByLabel);
    }

    private static long ParseLabel(string file, CsvParser parser)
    {
        var text = parser[0];
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var label))
            throw Corrupt(file, $"row {parser.Row}, column 1: label '{text}' is not an integer");
        if (label < 0)
            throw Corrupt(file, $"row {parser.Row}, column 1: label {label} is negative; labels are class numbers from 0");
        if (label >= int.MaxValue)
            throw Corrupt(file, $"row {parser.Row}, column 1: label {label} is no class number (a dataset has at most {int.MaxValue:N0} classes)");
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
