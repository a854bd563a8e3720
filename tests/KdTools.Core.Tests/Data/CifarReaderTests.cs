using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class CifarReaderTests
{
    private static void AssertDecoded(Tensor images, int firstImage, int file, int records)
    {
        var decoded = images.narrow(0, firstImage, records).contiguous().data<byte>().ToArray();
        for (var r = 0; r < records; r++)
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < 32; y++)
                    for (var x = 0; x < 32; x++)
                    {
                        var position = c * 1024 + y * 32 + x;
                        var actual = decoded[r * CifarFiles.PixelsPerImage + position];
                        if (actual != CifarFiles.Pixel(file, r, position))
                            Assert.Fail($"file {file} record {r} pixel [{c}, {y}, {x}]: got {actual}, wrote {CifarFiles.Pixel(file, r, position)}");
                    }
    }

    [Fact]
    public void Reads_cifar10_batches_in_order_from_the_usual_subfolder()
    {
        using var temp = new TempFolder();
        var folder = temp.Combine("cifar-10-batches-bin");
        CifarFiles.WriteCifar10(folder);

        using var dataset = CifarReader.Read(temp.Path);

        Assert.Equal("cifar10", dataset.Name);
        Assert.Equal(folder, dataset.Source);
        Assert.Equal(10, dataset.Classes);
        Assert.Equal(new long[] { 15, 3, 32, 32 }, dataset.Train.Images.shape);
        Assert.Equal(new long[] { 3, 3, 32, 32 }, dataset.Test.Images.shape);
        Assert.Equal(ScalarType.Byte, dataset.Train.Images.dtype);
        Assert.Equal(ScalarType.Int64, dataset.Train.Labels.dtype);
        for (var f = 1; f <= 5; f++)
            AssertDecoded(dataset.Train.Images, (f - 1) * 3, f, 3);
        AssertDecoded(dataset.Test.Images, 0, 6, 3);
        var expectedTrainLabels = Enumerable.Range(1, 5).SelectMany(f => Enumerable.Range(0, 3).Select(r => (long)CifarFiles.Cifar10Label(f, r)));
        Assert.Equal(expectedTrainLabels, dataset.Train.Labels.data<long>().ToArray());
        Assert.Equal([8L, 9L, 0L], dataset.Test.Labels.data<long>().ToArray());
        Assert.Equal([0.4914f, 0.4822f, 0.4465f], dataset.Mean);
        Assert.Equal([0.2470f, 0.2435f, 0.2616f], dataset.Std);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), dataset.ClassNames);
    }

    [Fact]
    public void Cifar10_class_names_come_from_the_meta_file()
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Path);
        string[] names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
        File.WriteAllText(temp.Combine("batches.meta.txt"), string.Join("\n", names) + "\n\n");

        using var dataset = CifarReader.Read(temp.Path);

        Assert.Equal(temp.Path, dataset.Source);
        Assert.Equal(names, dataset.ClassNames);
    }

    [Fact]
    public void Reads_cifar100_fine_labels_and_names()
    {
        using var temp = new TempFolder();
        var folder = temp.Combine("cifar-100-binary");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), CifarFiles.Cifar100(1, (3, 99), (19, 0), (0, 42)));
        File.WriteAllBytes(Path.Combine(folder, "test.bin"), CifarFiles.Cifar100(2, (7, 57), (11, 12)));
        var names = Enumerable.Range(0, 100).Select(i => $"class_{i}").ToArray();
        File.WriteAllLines(Path.Combine(folder, "fine_label_names.txt"), names);

        using var dataset = CifarReader.Read(temp.Path);

        Assert.Equal("cifar100", dataset.Name);
        Assert.Equal(100, dataset.Classes);
        Assert.Equal([99L, 0L, 42L], dataset.Train.Labels.data<long>().ToArray());
        Assert.Equal([57L, 12L], dataset.Test.Labels.data<long>().ToArray());
        AssertDecoded(dataset.Train.Images, 0, 1, 3);
        AssertDecoded(dataset.Test.Images, 0, 2, 2);
        Assert.Equal(names, dataset.ClassNames);
        Assert.Equal([0.5071f, 0.4865f, 0.4409f], dataset.Mean);
        Assert.Equal([0.2673f, 0.2564f, 0.2762f], dataset.Std);
    }

    [Fact]
    public void Missing_folder_names_the_fix()
    {
        using var temp = new TempFolder();
        var missing = temp.Combine("nowhere");

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(missing));

        Assert.Equal(KdErrorIds.DatasetPathMissing, ex.ErrorId);
        Assert.Equal(KdErrorKind.ObjectNotFound, ex.Kind);
        Assert.Equal($"dataset folder '{missing}' does not exist; pass a CIFAR-10/100 binary folder, or use the synthetic dataset", ex.Message);
    }

    [Fact]
    public void Folder_without_either_layout_lists_the_expected_files()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("readme.txt"), "not a dataset");

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFormatUnknown, ex.ErrorId);
        Assert.Contains("data_batch_1.bin", ex.Message);
        Assert.Contains("test_batch.bin", ex.Message);
        Assert.Contains("train.bin", ex.Message);
        Assert.Contains("cifar-100-binary", ex.Message);
    }

    [Fact]
    public void Folder_holding_both_variants_asks_for_one()
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Combine("cifar-10-batches-bin"));
        Directory.CreateDirectory(temp.Combine("cifar-100-binary"));
        File.WriteAllBytes(temp.Combine("cifar-100-binary", "train.bin"), CifarFiles.Cifar100(1, (0, 0)));

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFormatUnknown, ex.ErrorId);
        Assert.Contains(temp.Combine("cifar-10-batches-bin"), ex.Message);
    }

    [Fact]
    public void Missing_batch_file_is_named()
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Path);
        File.Delete(temp.Combine("data_batch_3.bin"));

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFileMissing, ex.ErrorId);
        Assert.Contains("'data_batch_3.bin'", ex.Message);
        Assert.Equal(temp.Combine("data_batch_3.bin"), ex.Target);
    }

    [Fact]
    public void Missing_cifar100_test_file_is_named()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.Combine("train.bin"), CifarFiles.Cifar100(1, (0, 5)));

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFileMissing, ex.ErrorId);
        Assert.Contains("'test.bin'", ex.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3073 * 2 + 100)]
    [InlineData(0)]
    public void File_of_a_size_that_is_not_whole_records_is_corrupt(int size)
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Path);
        File.WriteAllBytes(temp.Combine("data_batch_2.bin"), new byte[size]);

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("data_batch_2.bin", ex.Message);
        Assert.Contains($"is {size} bytes", ex.Message);
        Assert.Contains("record length 3073", ex.Message);
    }

    [Fact]
    public void Cifar100_file_with_cifar10_record_length_is_corrupt()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.Combine("train.bin"), CifarFiles.Cifar10(1, 1, 2, 3));
        File.WriteAllBytes(temp.Combine("test.bin"), CifarFiles.Cifar100(2, (0, 1)));

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("record length 3074", ex.Message);
    }

    [Fact]
    public void Label_beyond_the_class_count_is_corrupt()
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Path);
        File.WriteAllBytes(temp.Combine("test_batch.bin"), CifarFiles.Cifar10(6, 4, 10, 2));

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("test_batch.bin' record 1 has label 10", ex.Message);
    }

    [Fact]
    public void Cifar100_fine_label_beyond_99_is_corrupt()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.Combine("train.bin"), CifarFiles.Cifar100(1, (0, 100)));
        File.WriteAllBytes(temp.Combine("test.bin"), CifarFiles.Cifar100(2, (0, 1)));

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("record 0 has label 100", ex.Message);
    }

    [Fact]
    public void Meta_file_with_the_wrong_number_of_names_is_corrupt()
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Path);
        File.WriteAllLines(temp.Combine("batches.meta.txt"), ["cat", "dog"]);

        var ex = Assert.Throws<KdException>(() => CifarReader.Read(temp.Path));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("lists 2 class names", ex.Message);
    }
}
