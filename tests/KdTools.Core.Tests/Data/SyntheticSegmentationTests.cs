using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class SyntheticSegmentationTests
{
    private static readonly SyntheticSegmentationOptions Small = new(Classes: 6, TrainCount: 40, TestCount: 12, ImageSize: 32);

    [Fact]
    public void Same_seed_gives_bitwise_identical_scenes_and_another_seed_other_ones()
    {
        using var first = SyntheticSegmentation.Create(Small);
        using var second = SyntheticSegmentation.Create(Small);
        using var other = SyntheticSegmentation.Create(Small with { Seed = 2 });

        Assert.True(TensorCompare.Identical(first.Train.Images, second.Train.Images));
        Assert.True(TensorCompare.Identical(first.Train.Labels, second.Train.Labels));
        Assert.True(TensorCompare.Identical(first.Test.Labels, second.Test.Labels));
        Assert.False(TensorCompare.Identical(first.Train.Labels, other.Train.Labels));
    }

    [Fact]
    public void Test_split_does_not_depend_on_the_training_size()
    {
        using var first = SyntheticSegmentation.Create(Small);
        using var second = SyntheticSegmentation.Create(Small with { TrainCount = 7 });

        Assert.True(TensorCompare.Identical(first.Test.Images, second.Test.Images));
        Assert.True(TensorCompare.Identical(first.Test.Labels, second.Test.Labels));
    }

    [Fact]
    public void Scenes_are_label_maps_of_every_class_with_an_ignored_outline()
    {
        using var dataset = SyntheticSegmentation.Create(Small with { TrainCount = 200 });

        Assert.Equal(("synthetic-segmentation", 6, PredictionTask.Segmentation), (dataset.Name, dataset.Classes, dataset.Task));
        Assert.Equal(new long[] { 200, 3, 32, 32 }, dataset.Train.Images.shape);
        Assert.Equal(new long[] { 200, 32, 32 }, dataset.Train.Labels.shape);
        Assert.Equal(ScalarType.Byte, dataset.Train.Labels.dtype);
        Assert.Equal(["background", "red disc", "green striped square", "blue checkered diamond", "yellow ring", "red striped cross"],
            dataset.ClassNames);

        using var scope = NewDisposeScope();
        var counts = dataset.Train.Labels.flatten().to_type(ScalarType.Int64).bincount(null, minlength: 256);
        var pixels = (double)dataset.Train.Labels.numel();
        Assert.Equal(0, counts.narrow(0, 6, 249).sum().item<long>()); // only classes 0..5 and 255
        for (int c = 0; c < 6; c++) Assert.InRange(counts[c].item<long>() / pixels, 0.02, 0.8);
        // A one-pixel outline: a few percent of the pixels, and never a whole scene.
        Assert.InRange(counts[255].item<long>() / pixels, 0.01, 0.15);
        var ignoredPerScene = dataset.Train.Labels.eq(255).sum([1, 2]);
        Assert.True(ignoredPerScene.gt(0).all().item<bool>());
    }

    [Fact]
    public void Objects_differ_from_the_background_in_colour()
    {
        using var dataset = SyntheticSegmentation.Create(Small with { TrainCount = 100, Noise = 0 });
        using var scope = NewDisposeScope();
        var channels = dataset.Train.Images.permute(1, 0, 2, 3).to_type(ScalarType.Float32); // [3, N, S, S]
        double[] MeanColour(int label) =>
            channels.masked_select(dataset.Train.Labels.eq(label).unsqueeze(0).expand_as(channels)).view(3, -1)
                .mean([1]).data<float>().Select(v => (double)v).ToArray();

        // Red discs (class 1) are red; the background is a colour field around the same grey in every channel.
        var disc = MeanColour(1);
        var background = MeanColour(0);
        Assert.True(disc[0] - disc[2] > 100, $"red disc colour {string.Join(", ", disc)}");
        Assert.InRange(background[0] - background[2], -20, 20);
        Assert.InRange(background[1], 0.45 * 255 - 20, 0.45 * 255 + 20);
    }

    [Theory]
    [InlineData(1, 10, 10, 32, 4, "Classes must be 2 to 11")]
    [InlineData(12, 10, 10, 32, 4, "Classes must be 2 to 11")]
    [InlineData(6, 0, 10, 32, 4, "TrainCount and TestCount must be at least 1")]
    [InlineData(6, 10, 10, 8, 4, "ImageSize must be at least 16")]
    [InlineData(6, 10, 10, 32, 0, "MaxObjects must be at least 1")]
    public void Invalid_settings_fail_saying_which(int classes, int train, int test, int size, int objects, string message)
    {
        var ex = Assert.Throws<KdException>(() => SyntheticSegmentation.Create(new(classes, train, test, size, MaxObjects: objects)));

        Assert.Equal(KdErrorIds.DatasetInvalid, ex.ErrorId);
        Assert.StartsWith(message, ex.Message);
    }
}
