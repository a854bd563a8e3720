using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

/// <summary>The VOC and Cityscapes readers on the fixtures of make_fixtures.py (files PIL wrote in those formats).</summary>
public class SegmentationFormatTests
{
    [Fact]
    public void Voc_reads_the_listed_images_with_their_palette_indices_on_a_square_canvas()
    {
        using var dataset = DatasetReader.Read(Fixtures.Path("voc"), imageSize: 24);

        Assert.Equal(("voc2012", 21, PredictionTask.Segmentation), (dataset.Name, dataset.Classes, dataset.Task));
        Assert.Equal("person", dataset.ClassNames[15]);
        Assert.Equal((2, 1), (dataset.Train.Count, dataset.Test.Count)); // the unlisted JPEG is not read
        Assert.Equal(new long[] { 2, 3, 24, 24 }, dataset.Train.Images.shape);
        Assert.Equal(new long[] { 2, 24, 24 }, dataset.Train.Labels.shape);
        Assert.Equal(ScalarType.Byte, dataset.Train.Labels.dtype);

        // 24x16 landscape: the labels as stored, the rows below are padding (ignored).
        var landscape = Labels(dataset.Train, 0);
        var (width, height, stored) = Fixtures.LabelMap("voc/2007_000032");
        Assert.Equal((24, 16), (width, height));
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
                Assert.Equal(y < 16 ? stored[y * 24 + x] : (byte)255, landscape[y, x]);

        // 16x24 portrait: padded on the right.
        var portrait = Labels(dataset.Train, 1);
        var (_, _, portraitStored) = Fixtures.LabelMap("voc/2007_000039");
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
                Assert.Equal(x < 16 ? portraitStored[y * 16 + x] : (byte)255, portrait[y, x]);
    }

    [Fact]
    public void Voc_images_keep_their_colours_and_padding_takes_the_image_mean()
    {
        using var dataset = DatasetReader.Read(Fixtures.Path("voc"), imageSize: 24);
        var info = Fixtures.Entry("voc").GetProperty("2007_000032");
        var box = Ints(info.GetProperty("box")); // x0, y0, x1, y1
        var image = dataset.Train.Images[0];

        // JPEG is lossy: block centres are within a few levels of the colours the generator painted.
        AssertColour(image, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, Ints(info.GetProperty("color")), tolerance: 12);
        AssertColour(image, 21, 1, Ints(info.GetProperty("background")), tolerance: 12);
        var mean = info.GetProperty("jpeg_mean").EnumerateArray().Select(v => (int)Math.Round(v.GetDouble())).ToArray();
        AssertColour(image, 5, 20, mean, tolerance: 3);
    }

    [Fact]
    public void Voc_scales_a_smaller_image_up_with_nearest_labels()
    {
        using var dataset = DatasetReader.Read(Fixtures.Path("voc"), imageSize: 24);
        var (width, height, stored) = Fixtures.LabelMap("voc/2007_000063");
        Assert.Equal((20, 20), (width, height));

        var scaled = Labels(dataset.Test, 0);

        // Pixel centres: output pixel i reads input pixel floor((i + 0.5)·20/24).
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
                Assert.Equal(stored[(int)((y + 0.5) * 20 / 24) * 20 + (int)((x + 0.5) * 20 / 24)], scaled[y, x]);
    }

    [Fact]
    public void Voc_is_detected_in_a_vocdevkit_folder()
    {
        using var temp = new TempFolder();
        var voc = Fixtures.CopyFolder("voc", temp);
        var devkit = temp.Combine("download", "VOCdevkit");
        Directory.CreateDirectory(devkit);
        Directory.Move(voc, Path.Combine(devkit, "VOC2012"));

        Assert.Equal("Voc", DatasetReader.Detect(temp.Combine("download")).Name);
        using var dataset = DatasetReader.Read(temp.Combine("download"), imageSize: 16);
        Assert.Equal(2, dataset.Train.Count);
    }

    [Fact]
    public void Voc_without_a_split_list_names_the_missing_file()
    {
        using var temp = new TempFolder();
        var voc = Fixtures.CopyFolder("voc", temp);
        var list = Path.Combine(voc, "ImageSets", "Segmentation", "val.txt");
        File.Delete(list);

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(voc, imageSize: 16));

        Assert.Equal(KdErrorIds.DatasetFileMissing, ex.ErrorId);
        Assert.Equal(list, ex.Target);
        Assert.Contains("train.txt and val.txt", ex.Message);
    }

    [Fact]
    public void An_image_without_its_label_map_names_both()
    {
        using var temp = new TempFolder();
        var voc = Fixtures.CopyFolder("voc", temp);
        var label = Path.Combine(voc, "SegmentationClass", "2007_000039.png");
        File.Delete(label);

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(voc, imageSize: 16));

        Assert.Equal(KdErrorIds.DatasetFileMissing, ex.ErrorId);
        Assert.Equal(label, ex.Target);
        Assert.Contains("2007_000039.jpg' has no label map", ex.Message);
    }

    [Fact]
    public void A_label_map_of_another_size_than_its_image_fails()
    {
        using var temp = new TempFolder();
        var voc = Fixtures.CopyFolder("voc", temp);
        var label = Path.Combine(voc, "SegmentationClass", "2007_000032.png");
        LabelMapPng.Write(label, new byte[24 * 15], 24, 15);

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(voc, imageSize: 16));

        Assert.Equal(KdErrorIds.DatasetLabelMismatch, ex.ErrorId);
        Assert.Contains("is 24x15 but its image", ex.Message);
        Assert.Contains("is 24x16", ex.Message);
    }

    [Fact]
    public void A_voc_label_outside_the_classes_fails_naming_value_and_pixel()
    {
        using var temp = new TempFolder();
        var voc = Fixtures.CopyFolder("voc", temp);
        var labels = new byte[24 * 16];
        labels[2 * 24 + 5] = 21;
        LabelMapPng.Write(Path.Combine(voc, "SegmentationClass", "2007_000032.png"), labels, 24, 16);

        var ex = Assert.Throws<KdException>(() => DatasetReader.Read(voc, imageSize: 16));

        Assert.Equal(KdErrorIds.DatasetFileCorrupt, ex.ErrorId);
        Assert.Contains("value 21 at pixel (5, 2)", ex.Message);
    }

    [Fact]
    public void Cityscapes_maps_label_ids_to_the_19_train_ids_and_ignores_the_rest()
    {
        using var dataset = DatasetReader.Read(Fixtures.Path("cityscapes"), imageSize: 32);

        Assert.Equal(("cityscapes", 19, PredictionTask.Segmentation), (dataset.Name, dataset.Classes, dataset.Task));
        Assert.Equal((2, 1), (dataset.Train.Count, dataset.Test.Count));
        // Id → train id, as in cityscapesScripts: road 7 → 0, sidewalk 8 → 1, building 11 → 2, pole 17 → 5,
        // vegetation 21 → 8, sky 23 → 10, person 24 → 11, car 26 → 13, bicycle 33 → 18; unlabeled, ego vehicle, static → 255.
        var trainIds = new Dictionary<int, int> { [7] = 0, [8] = 1, [11] = 2, [17] = 5, [21] = 8, [23] = 10, [24] = 11, [26] = 13, [33] = 18 };
        string[] frames = ["aachen_000000_000019", "bochum_000000_000313"];
        for (int i = 0; i < frames.Length; i++)
        {
            var (width, height, ids) = Fixtures.LabelMap($"cityscapes/{frames[i]}/labelIds");
            Assert.Equal((32, 16), (width, height));
            var labels = Labels(dataset.Train, i);
            var rgb = Fixtures.Entry("cityscapes").GetProperty(frames[i]).GetProperty("rgb").EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray();
            var image = dataset.Train.Images[i].permute(1, 2, 0).contiguous();
            var pixels = image.narrow(0, 0, 16).data<byte>().ToArray(); // lossless PNG: exactly as written
            Assert.Equal(rgb, pixels);
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                {
                    int expected = y < 16 && trainIds.TryGetValue(ids[y * 32 + x], out var trainId) ? trainId : 255;
                    Assert.Equal(expected, labels[y, x]);
                }
        }
    }

    [Fact]
    public void Cityscapes_without_a_label_map_or_a_split_folder_fails_naming_it()
    {
        using var temp = new TempFolder();
        var root = Fixtures.CopyFolder("cityscapes", temp);
        var label = Path.Combine(root, "gtFine", "train", "bochum", "bochum_000000_000313_gtFine_labelIds.png");
        var moved = temp.Combine("labelIds.png");
        File.Move(label, moved);
        var missingLabel = Assert.Throws<KdException>(() => DatasetReader.Read(root, imageSize: 16));
        File.Move(moved, label);
        Directory.Delete(Path.Combine(root, "leftImg8bit", "val"), recursive: true);
        var missingSplit = Assert.Throws<KdException>(() => DatasetReader.Read(root, format: "Cityscapes", imageSize: 16));

        Assert.Equal((KdErrorIds.DatasetFileMissing, (object)label), (missingLabel.ErrorId, missingLabel.Target!));
        Assert.Equal(KdErrorIds.DatasetFileMissing, missingSplit.ErrorId);
        Assert.Contains("leftImg8bit/val/<city>", missingSplit.Message);
    }

    private static byte[,] Labels(ImageSet set, int index)
    {
        var map = set.Labels[index];
        var values = map.data<byte>().ToArray();
        var result = new byte[map.shape[0], map.shape[1]];
        Buffer.BlockCopy(values, 0, result, 0, values.Length);
        return result;
    }

    private static int[] Ints(System.Text.Json.JsonElement array) => array.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static void AssertColour(Tensor image, int x, int y, int[] expected, int tolerance)
    {
        for (int c = 0; c < 3; c++)
            Assert.InRange(image[c, y, x].item<byte>(), expected[c] - tolerance, expected[c] + tolerance);
    }
}
