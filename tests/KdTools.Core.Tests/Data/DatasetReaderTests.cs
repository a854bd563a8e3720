using KdTools.Core.Data;

namespace KdTools.Core.Tests.Data;

public class DatasetReaderTests
{
    [Fact]
    public void Detects_each_layout_from_the_folder_contents()
    {
        using var cifar = new TempFolder();
        CifarFiles.WriteCifar10(cifar.Combine("cifar-10-batches-bin"));
        using var csv = new TempFolder();
        File.WriteAllText(csv.Combine("train.csv"), "0,1,2,3\n");
        using var images = new TempFolder();
        Directory.CreateDirectory(images.Combine("train", "a"));
        Directory.CreateDirectory(images.Combine("test", "a"));

        Assert.Equal("Cifar", DatasetReader.Detect(cifar.Path).Name);
        Assert.Equal("Csv", DatasetReader.Detect(csv.Path).Name);
        Assert.Equal("ImageFolder", DatasetReader.Detect(images.Path).Name);
    }

    [Fact]
    public void Reads_a_csv_folder_with_square_images_of_the_given_side()
    {
        using var temp = new TempFolder();
        // One channel of 2x2 pixels per row.
        File.WriteAllLines(temp.Combine("train.csv"), ["0,1,2,3,4", "1,5,6,7,8"]);
        File.WriteAllLines(temp.Combine("test.csv"), ["1,9,9,9,9"]);

        using var dataset = DatasetReader.Read(temp.Path, imageSize: 2, channels: 1);

        Assert.Equal("csv", dataset.Name);
        Assert.Equal(new long[] { 2, 1, 2, 2 }, dataset.Train.Images.shape);
    }

    [Fact]
    public void Unknown_layout_describes_all_three()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("readme.txt"), "not a dataset");

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFormatUnknown, ex.ErrorId);
        Assert.Contains("data_batch_1.bin", ex.Message);
        Assert.Contains("train.csv", ex.Message);
        Assert.Contains("'train' and 'test' subfolders", ex.Message);
    }

    [Fact]
    public void Missing_folder_lists_what_a_dataset_folder_holds()
    {
        using var temp = new TempFolder();
        var missing = temp.Combine("nowhere");

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(missing));

        Assert.Equal(KdErrorIds.DatasetPathMissing, ex.ErrorId);
        Assert.StartsWith($"dataset folder '{missing}' does not exist", ex.Message);
    }

    [Fact]
    public void A_file_is_refused_as_a_file_pointing_at_its_dataset_folder()
    {
        using var temp = new TempFolder();
        var file = temp.Combine("train.csv");
        File.WriteAllText(file, "0,1,2,3\n");

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(file));

        Assert.Equal(KdErrorIds.DatasetInvalid, ex.ErrorId);
        Assert.Equal(KdErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal($"'{file}' is a file, not a dataset folder; pass the folder that holds the dataset ('{temp.Path}')", ex.Message);
    }
}
