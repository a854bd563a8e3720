using KdTools.Core.Data;
using TorchSharp;

namespace KdTools.Core.Tests.Data;

public class ImageFolderReaderTests
{
    // A 2x2 RGB image, row-major: red, green / blue, white.
    private static readonly byte[] Quad = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];

    private static string ClassFolder(TempFolder temp, string split, string label)
    {
        var folder = temp.Combine(split, label);
        Directory.CreateDirectory(folder);
        return folder;
    }

    [Fact]
    public void Reads_png_and_bmp_as_chw_rgb_with_classes_in_ordinal_order()
    {
        using var temp = new TempFolder();
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "dog"), "a.png"), 2, 2, 3, Quad);
        ImageFiles.WriteBmp(Path.Combine(ClassFolder(temp, "train", "cat"), "b.bmp"), 2, 2, Quad);
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "cat"), "c.PNG"), 2, 2, 1, [0, 64, 128, 255]);
        File.WriteAllText(Path.Combine(temp.Combine("train", "cat"), "notes.txt"), "skipped: not an image");
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "val", "dog"), "d.png"), 2, 2, 4, [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 0, 10, 11, 12, 128]);

        using var dataset = ImageFolderReader.Read(temp.Path, imageSize: 2);

        Assert.Equal("imagefolder", dataset.Name);
        Assert.Equal(["cat", "dog"], dataset.ClassNames);
        Assert.Equal(2, dataset.Classes);
        Assert.Equal(new long[] { 3, 3, 2, 2 }, dataset.Train.Images.shape);
        Assert.Equal([0L, 0L, 1L], dataset.Train.Labels.data<long>().ToArray());
        var images = dataset.Train.Images;
        // b.bmp (cat, first by file name): channel-major, so the red plane is [[255, 0], [0, 255]].
        Assert.Equal(new byte[] { 255, 0, 0, 255 }, images[0, 0].flatten().data<byte>().ToArray());
        Assert.Equal(new byte[] { 0, 255, 0, 255 }, images[0, 1].flatten().data<byte>().ToArray());
        Assert.Equal(new byte[] { 0, 0, 255, 255 }, images[0, 2].flatten().data<byte>().ToArray());
        // c.PNG is grayscale: each channel repeats the gray values.
        for (int c = 0; c < 3; c++) Assert.Equal(new byte[] { 0, 64, 128, 255 }, images[1, c].flatten().data<byte>().ToArray());
        Assert.True(images[2].eq(images[0]).all().item<bool>(), "a.png holds the same pixels as b.bmp");
        // The held-out split may be called val; RGBA loses its alpha.
        Assert.Equal([1L], dataset.Test.Labels.data<long>().ToArray());
        Assert.Equal(new byte[] { 1, 4, 7, 10 }, dataset.Test.Images[0, 0].flatten().data<byte>().ToArray());
    }

    [Fact]
    public void Resizes_to_the_requested_square_side()
    {
        using var temp = new TempFolder();
        var gray = Enumerable.Repeat((byte)77, 8 * 6 * 3).ToArray();
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "a"), "wide.png"), 8, 6, 3, gray);
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "b"), "small.png"), 2, 2, 3, Quad);
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "test", "a"), "t.png"), 8, 6, 3, gray);

        using var dataset = ImageFolderReader.Read(temp.Path, imageSize: 4);

        Assert.Equal(new long[] { 2, 3, 4, 4 }, dataset.Train.Images.shape);
        Assert.Equal(new long[] { 1, 3, 4, 4 }, dataset.Test.Images.shape);
        // A uniform image stays uniform at any size; upscaling keeps the corners' colours.
        Assert.True(dataset.Train.Images[0].eq(77).all().item<bool>());
        Assert.Equal(255, dataset.Train.Images[1, 0, 0, 0].item<byte>());
        Assert.Equal(255, dataset.Train.Images[1, 2, 3, 0].item<byte>());
    }

    [Fact]
    public void Unreadable_image_is_named_in_the_error()
    {
        using var temp = new TempFolder();
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "a"), "ok.png"), 2, 2, 3, Quad);
        var broken = Path.Combine(ClassFolder(temp, "train", "b"), "broken.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0xFF, 0x00, 0x01]);
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "test", "a"), "t.png"), 2, 2, 3, Quad);

        var ex = Assert.Throws<KdException>(() => ImageFolderReader.Read(temp.Path, 2));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains(broken, ex.Message);
    }

    /// <summary>
    /// A PNG cut off after its header is a file stb_image rejects with a message of NUL characters: the error still
    /// gives a readable reason.
    /// </summary>
    [Fact]
    public void A_truncated_png_is_named_with_a_reason()
    {
        using var temp = new TempFolder();
        var truncated = Path.Combine(temp.Path, "truncated.png");
        ImageFiles.WritePng(truncated, 2, 2, 3, Quad);
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..33]); // the signature and the IHDR chunk, no image data

        var ex = Assert.Throws<KdException>(() => ImageFolderReader.Decode(truncated));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        var reason = System.Text.RegularExpressions.Regex.Match(ex.Message, @"is not a readable image \((.*)\);").Groups[1].Value;
        Assert.DoesNotContain(reason, char.IsControl);
        Assert.False(string.IsNullOrWhiteSpace(reason), ex.Message);
    }

    [Fact]
    public void Test_class_missing_from_train_lists_the_known_classes()
    {
        using var temp = new TempFolder();
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "cat"), "a.png"), 2, 2, 3, Quad);
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "dog"), "b.png"), 2, 2, 3, Quad);
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "test", "bird"), "c.png"), 2, 2, 3, Quad);

        var ex = Assert.Throws<KdException>(() => ImageFolderReader.Read(temp.Path, 2));

        Assert.Equal(KdErrorIds.DatasetInvalid, ex.ErrorId);
        Assert.Contains("bird", ex.Message);
        Assert.Contains("known classes: cat, dog", ex.Message);
    }

    [Fact]
    public void Folder_without_a_test_split_says_which_subfolders_it_needs()
    {
        using var temp = new TempFolder();
        ImageFiles.WritePng(Path.Combine(ClassFolder(temp, "train", "cat"), "a.png"), 2, 2, 3, Quad);

        var ex = Assert.Throws<KdException>(() => ImageFolderReader.Read(temp.Path, 2));

        Assert.Equal(KdErrorIds.DatasetFileMissing, ex.ErrorId);
        Assert.Contains("'test' or 'val'", ex.Message);
    }
}
