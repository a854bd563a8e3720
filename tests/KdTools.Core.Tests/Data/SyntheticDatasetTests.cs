using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class SyntheticDatasetTests
{
    private static readonly SyntheticDatasetOptions Small = new(Classes: 4, TrainCount: 42, TestCount: 12, ImageSize: 16);

    [Fact]
    public void Same_seed_gives_bitwise_identical_splits()
    {
        using var first = SyntheticDataset.Create(Small);
        using var second = SyntheticDataset.Create(Small);

        Assert.True(TensorCompare.Identical(first.Train.Images, second.Train.Images));
        Assert.True(TensorCompare.Identical(first.Train.Labels, second.Train.Labels));
        Assert.True(TensorCompare.Identical(first.Test.Images, second.Test.Images));
        Assert.True(TensorCompare.Identical(first.Test.Labels, second.Test.Labels));
        Assert.Equal(first.Mean, second.Mean);
        Assert.Equal(first.Std, second.Std);
    }

    [Fact]
    public void Different_seed_gives_different_images()
    {
        using var first = SyntheticDataset.Create(Small);
        using var second = SyntheticDataset.Create(Small with { Seed = 2 });

        Assert.False(TensorCompare.Identical(first.Train.Images, second.Train.Images));
        Assert.False(TensorCompare.Identical(first.Test.Images, second.Test.Images));
    }

    [Fact]
    public void Test_split_does_not_depend_on_the_training_size()
    {
        using var first = SyntheticDataset.Create(Small);
        using var second = SyntheticDataset.Create(Small with { TrainCount = 20 });

        Assert.True(TensorCompare.Identical(first.Test.Images, second.Test.Images));
        Assert.True(TensorCompare.Identical(first.Test.Labels, second.Test.Labels));
    }

    [Fact]
    public void Splits_have_the_requested_shapes_types_and_description()
    {
        using var dataset = SyntheticDataset.Create(Small with { Channels = 1 });

        Assert.Equal("synthetic", dataset.Name);
        Assert.Equal("synthetic(classes=4,train=42,test=12,size=16,channels=1,seed=1,noise=0.1)", dataset.Source);
        Assert.Equal(4, dataset.Classes);
        Assert.Equal(new long[] { 42, 1, 16, 16 }, dataset.Train.Images.shape);
        Assert.Equal(new long[] { 12, 1, 16, 16 }, dataset.Test.Images.shape);
        Assert.Equal(ScalarType.Byte, dataset.Train.Images.dtype);
        Assert.Equal(ScalarType.Int64, dataset.Train.Labels.dtype);
        Assert.Single(dataset.Mean);
    }

    [Fact]
    public void Labels_are_balanced_over_the_classes()
    {
        using var scope = NewDisposeScope();
        using var dataset = SyntheticDataset.Create(Small);

        // 42 = 4 * 10 + 2: the first two classes get the extra images.
        Assert.Equal([11L, 11L, 10L, 10L], dataset.Train.Labels.bincount(null).data<long>().ToArray());
        Assert.Equal([3L, 3L, 3L, 3L], dataset.Test.Labels.bincount(null).data<long>().ToArray());
        Assert.False(TensorCompare.Identical(dataset.Train.Labels.narrow(0, 0, 4), arange(4, ScalarType.Int64)), "labels should be shuffled");
    }

    [Fact]
    public void Mean_and_std_are_the_per_channel_statistics_of_the_train_split()
    {
        using var scope = NewDisposeScope();
        using var dataset = SyntheticDataset.Create(Small);
        var pixels = dataset.Train.Images.to_type(ScalarType.Float64) / 255.0;
        var mean = pixels.mean([0, 2, 3]).data<double>().ToArray();
        var std = pixels.std([0, 2, 3], unbiased: false).data<double>().ToArray();

        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(mean[c], dataset.Mean[c], 1e-6);
            Assert.Equal(std[c], dataset.Std[c], 1e-6);
        }
        Assert.All(dataset.Std, s => Assert.InRange(s, 0.1f, 0.4f));
    }

    [Fact]
    public void Classes_are_distinguishable_by_their_mean_images()
    {
        using var scope = NewDisposeScope();
        using var dataset = SyntheticDataset.Create(new SyntheticDatasetOptions(Classes: 4, TrainCount: 800, TestCount: 400, ImageSize: 16));
        var train = dataset.Train.Images.to_type(ScalarType.Float32).flatten(1);
        var classMeans = stack(Enumerable.Range(0, 4)
            .Select(c => train.index_select(0, dataset.Train.Labels.eq(c).nonzero().flatten()).mean([0])).ToList());

        // Nearest class-mean image on the test split; chance is 0.25. Shifts and mirrors blur the means, so a CNN does
        // far better, but the classes must already be separable this crudely.
        var test = dataset.Test.Images.to_type(ScalarType.Float32).flatten(1);
        var predicted = cdist(test, classMeans).argmin(1);
        var accuracy = predicted.eq(dataset.Test.Labels).to_type(ScalarType.Float32).mean().item<float>();

        Assert.InRange(accuracy, 0.4f, 1f);
    }

    [Theory]
    [InlineData(1, 100, 10, 32, 3, 0.1)]
    [InlineData(10, 9, 10, 32, 3, 0.1)]
    [InlineData(10, 100, 0, 32, 3, 0.1)]
    [InlineData(10, 100, 10, 4, 3, 0.1)]
    [InlineData(10, 100, 10, 32, 0, 0.1)]
    [InlineData(10, 100, 10, 32, 3, -0.5)]
    [InlineData(10, 100, 10, 32, 3, double.NaN)]
    public void Unusable_settings_are_rejected(int classes, int trainCount, int testCount, int imageSize, int channels, double noise)
    {
        var options = new SyntheticDatasetOptions(classes, trainCount, testCount, imageSize, channels, Noise: noise);

        var ex = Assert.Throws<KdException>(() => SyntheticDataset.Create(options));

        Assert.Equal(KdErrorIds.DatasetInvalid, ex.ErrorId);
        Assert.Equal(KdErrorKind.InvalidArgument, ex.Kind);
    }
}
