using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class CsvImageReaderTests
{
    // Two channels of 2x3 pixels: each row is a label and 12 channel-major pixels.
    private const int Channels = 2, Height = 2, Width = 3;
    private const string Header = "label,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9,p10,p11";
    private const string TrainRow0 = "1,0,1,2,3,4,5,250,251,252,253,254,255";
    private const string TrainRow1 = "0,10,20,30,40,50,60,70,80,90,100,110,120";
    private const string TestRow = "1,9,8,7,6,5,4,3,2,1,0,0,0";

    private static (string Train, string Test) Write(TempFolder temp, string[] trainLines, string[] testLines)
    {
        var train = temp.Combine("train.csv");
        var test = temp.Combine("test.csv");
        File.WriteAllLines(train, trainLines);
        File.WriteAllLines(test, testLines);
        return (train, test);
    }

    [Fact]
    public void Round_trip_decodes_channel_major_pixels_labels_and_statistics()
    {
        using var temp = new TempFolder();
        var (train, test) = Write(temp, [Header, TrainRow0, TrainRow1], [TestRow]);

        using var dataset = CsvImageReader.Read(train, test, Channels, Height, Width);

        Assert.Equal("csv", dataset.Name);
        Assert.Equal(2, dataset.Classes);
        Assert.Equal(new long[] { 2, 2, 2, 3 }, dataset.Train.Images.shape);
        Assert.Equal(new long[] { 1, 2, 2, 3 }, dataset.Test.Images.shape);
        Assert.Equal([1L, 0L], dataset.Train.Labels.data<long>().ToArray());
        Assert.Equal([1L], dataset.Test.Labels.data<long>().ToArray());
        Assert.Equal(5, dataset.Train.Images[0, 0, 1, 2].item<byte>());
        Assert.Equal(250, dataset.Train.Images[0, 1, 0, 0].item<byte>());
        Assert.Equal(120, dataset.Train.Images[1, 1, 1, 2].item<byte>());
        Assert.Equal(7, dataset.Test.Images[0, 0, 0, 2].item<byte>());

        // Channel 0 of the train split holds 0..5 (sum 15) and 10..60 (sum 210); channel 1 holds 250..255 (sum 1515) and 70..120 (sum 570).
        Assert.Equal(225 / 12.0 / 255, dataset.Mean[0], 1e-6);
        Assert.Equal(2085 / 12.0 / 255, dataset.Mean[1], 1e-6);
        var channel0 = new[] { 0, 1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60 }.Select(v => v / 255.0).ToArray();
        var mean0 = channel0.Average();
        Assert.Equal(Math.Sqrt(channel0.Average(v => (v - mean0) * (v - mean0))), dataset.Std[0], 1e-6);
    }

    [Fact]
    public void Folder_form_reads_train_and_test_csv_without_header()
    {
        using var temp = new TempFolder();
        Write(temp, [TrainRow0, TrainRow1], [TestRow]);

        using var dataset = CsvImageReader.Read(temp.Path, Channels, Height, Width);

        Assert.Equal(temp.Path, dataset.Source);
        Assert.Equal(2, dataset.Train.Count);
        Assert.Equal(1, dataset.Train.Images[0, 0, 0, 1].item<byte>());
    }

    [Fact]
    public void A_typo_d_label_is_an_error_naming_its_rows_not_a_larger_class_count()
    {
        using var temp = new TempFolder();
        const string pixels = ",1,2,3,4,5,6,7,8,9,10,11,12";
        var (train, test) = Write(temp, [Header, "0" + pixels, "1" + pixels, "2" + pixels, "70" + pixels, "1" + pixels],
            ["2" + pixels, "70" + pixels]);

        var ex = Assert.Throws<KdException>(() => CsvImageReader.Read(train, test, Channels, Height, Width));

        Assert.Equal(KdErrorIds.DatasetInvalid, ex.ErrorId);
        Assert.StartsWith("classes 3..69 of the 71 classes (0..70, from the largest label) have no training images", ex.Message);
        Assert.Contains("label 70 in train.csv row 5", ex.Message);
        Assert.Contains("label 70 in test.csv row 2", ex.Message);
    }

    [Fact]
    public void Wrong_column_count_names_the_row()
    {
        using var temp = new TempFolder();
        var (train, test) = Write(temp, [Header, TrainRow0, "0,1,2,3"], [TestRow]);

        var ex = Assert.Throws<KdException>(() => CsvImageReader.Read(train, test, Channels, Height, Width));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("row 3 has 4 columns, expected 13", ex.Message);
        Assert.Equal(train, ex.Target);
    }

    [Fact]
    public void Non_numeric_pixel_names_row_and_column()
    {
        using var temp = new TempFolder();
        var (train, test) = Write(temp, [TrainRow0], ["3,9,8,x,6,5,4,3,2,1,0,0,0"]);

        var ex = Assert.Throws<KdException>(() => CsvImageReader.Read(train, test, Channels, Height, Width));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("row 1, column 4: pixel 'x' is not an integer", ex.Message);
        Assert.Equal(test, ex.Target);
    }

    [Theory]
    [InlineData("1,0,1,2,3,4,5,6,7,8,9,10,256", "row 2, column 13: pixel 256 is outside 0..255")]
    [InlineData("1,0,1,2,-1,4,5,6,7,8,9,10,11", "row 2, column 5: pixel -1 is outside 0..255")]
    [InlineData("-2,0,1,2,3,4,5,6,7,8,9,10,11", "row 2, column 1: label -2 is negative")]
    [InlineData("a,0,1,2,3,4,5,6,7,8,9,10,11", "row 2, column 1: label 'a' is not an integer")]
    public void Out_of_range_or_malformed_values_are_corrupt(string badRow, string expected)
    {
        using var temp = new TempFolder();
        var (train, test) = Write(temp, [TrainRow0, badRow], [TestRow]);

        var ex = Assert.Throws<KdException>(() => CsvImageReader.Read(train, test, Channels, Height, Width));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void File_with_only_a_header_is_corrupt()
    {
        using var temp = new TempFolder();
        var (train, test) = Write(temp, [Header], [TestRow]);

        var ex = Assert.Throws<KdException>(() => CsvImageReader.Read(train, test, Channels, Height, Width));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("has no image rows", ex.Message);
    }

    [Fact]
    public void Missing_file_and_missing_folder_have_their_ids()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.Combine("train.csv"), [TrainRow0]);

        var missingFile = Assert.Throws<KdException>(() => CsvImageReader.Read(temp.Path, Channels, Height, Width));
        var missingFolder = Assert.Throws<KdException>(() => CsvImageReader.Read(temp.Combine("absent"), Channels, Height, Width));

        Assert.Equal(KdErrorIds.DatasetFileMissing, missingFile.ErrorId);
        Assert.Equal(temp.Combine("test.csv"), missingFile.Target);
        Assert.Equal(KdErrorIds.DatasetPathMissing, missingFolder.ErrorId);
    }

    [Fact]
    public void Non_positive_image_shape_is_rejected()
    {
        using var temp = new TempFolder();
        var (train, test) = Write(temp, [TrainRow0], [TestRow]);

        var ex = Assert.Throws<KdException>(() => CsvImageReader.Read(train, test, 0, Height, Width));

        Assert.Equal(KdErrorIds.DatasetInvalid, ex.ErrorId);
    }
}
