using KdTools.Core.Data;
using StbImageSharp;

namespace KdTools.Core.Tests.Data;

public class LabelMapPngTests
{
    [Theory]
    [InlineData("gray8_adaptive.png")]   // PIL's adaptive row filters
    [InlineData("gray8_all_filters.png")] // rows filtered None, Sub, Up, Average, Paeth in turn
    [InlineData("palette8.png")]
    [InlineData("palette4.png")]
    [InlineData("palette2.png")]          // 13 pixels: the last byte of a row is partly padding
    [InlineData("palette1.png")]
    public void Reads_the_sample_values_PIL_reads(string file)
    {
        var (width, height, values) = Fixtures.LabelMap(file);

        var image = LabelMapPng.Read(Fixtures.Path("labelpng", file));

        Assert.Equal(width, image.Width);
        Assert.Equal(height, image.Height);
        Assert.Equal(values, image.Values);
    }

    [Fact]
    public void A_palette_image_gives_indices_where_stb_image_gives_colours()
    {
        var bytes = File.ReadAllBytes(Fixtures.Path("labelpng", "palette8.png"));

        var indices = LabelMapPng.Decode(bytes, "palette8.png").Values;
        var colours = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue).Data;

        // Index 255 (row 3) is VOC's cream (224, 224, 192) to a colour decoder.
        int pixel = Array.IndexOf(indices, (byte)255);
        Assert.Equal(new byte[] { 224, 224, 192 }, colours[(pixel * 3)..(pixel * 3 + 3)]);
        Assert.Equal(VocPalette.Colors.Skip(indices[0] * 3).Take(3), colours[..3]);
    }

    [Theory]
    [InlineData("rgb.png", "RGB PNG")]
    [InlineData("gray16.png", "16-bit samples")]
    [InlineData("interlaced.png", "interlaced")]
    public void Rejects_what_is_not_a_label_map_saying_why(string file, string reason)
    {
        var path = Fixtures.Path("labelpng", file);

        var ex = Assert.Throws<KdException>(() => LabelMapPng.Read(path));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains(reason, ex.Message);
        Assert.Equal(path, ex.Target);
    }

    [Fact]
    public void A_damaged_chunk_fails_its_crc_and_a_truncated_file_says_so()
    {
        var bytes = File.ReadAllBytes(Fixtures.Path("labelpng", "palette8.png"));
        var damaged = bytes.ToArray();
        damaged[^20] ^= 0x40; // inside the IDAT data

        var crc = Assert.Throws<KdException>(() => LabelMapPng.Decode(damaged, "x.png"));
        var truncated = Assert.Throws<KdException>(() => LabelMapPng.Decode(bytes.AsSpan(0, bytes.Length - 30), "x.png"));
        var notPng = Assert.Throws<KdException>(() => LabelMapPng.Decode("GIF89a"u8, "x.png"));

        Assert.Contains("CRC of its IDAT chunk", crc.Message);
        Assert.Contains("truncated", truncated.Message);
        Assert.Contains("not a PNG", notPng.Message);
        Assert.All([crc, truncated, notPng], e => Assert.Equal(KdErrorIds.DatasetFileCorrupt, e.ErrorId));
    }

    [Fact]
    public void Written_maps_read_back_as_the_same_indices_and_show_the_voc_colours()
    {
        using var temp = new TempFolder();
        var file = temp.Combine("prediction.png");
        byte[] labels = [0, 1, 15, 255, 20, 7, 3, 2, 0, 255, 14, 1];

        LabelMapPng.Write(file, labels, width: 4, height: 3);

        var read = LabelMapPng.Read(file);
        Assert.Equal((4, 3), (read.Width, read.Height));
        Assert.Equal(labels, read.Values);
        var colours = ImageResult.FromMemory(File.ReadAllBytes(file), ColorComponents.RedGreenBlue).Data;
        Assert.Equal(new byte[] { 0, 0, 0, 128, 0, 0, 192, 128, 128, 224, 224, 192 }, colours[..12]); // VOC: 0, 1, 15, 255
        Assert.Equal(["prediction.png"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void The_voc_palette_has_the_published_colours()
    {
        var palette = VocPalette.Colors;

        Assert.Equal(768, palette.Count);
        Assert.Equal(new byte[] { 0, 128, 0 }, palette.Skip(2 * 3).Take(3));       // bicycle
        Assert.Equal(new byte[] { 64, 0, 128 }, palette.Skip(12 * 3).Take(3));     // dog
        Assert.Equal(new byte[] { 0, 64, 128 }, palette.Skip(20 * 3).Take(3));     // tvmonitor
    }
}
