using KdTools.Core.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

public class CrdSamplingTests
{
    /// <summary>12 samples of 3 classes: 0 0 0 0 1 1 1 1 2 2 2 2.</summary>
    private static Tensor Labels() => arange(12, ScalarType.Int64).div(4, rounding_mode: RoundingMode.floor);

    [Fact]
    public void Exact_draws_the_sample_itself_and_distinct_negatives_of_other_classes()
    {
        using var scope = NewDisposeScope();
        var labels = Labels();
        using var sampler = new CrdContrastSampler(CrdSampling.Exact, 12, 8, labels);
        var indices = tensor(new long[] { 0, 5, 11 });
        var contrast = sampler.Draw(indices, new Generator(1));
        Assert.Equal(new long[] { 3, 9 }, contrast.shape);
        Assert.Equal(indices.data<long>().ToArray(), contrast.select(1, 0).data<long>().ToArray());
        for (int row = 0; row < 3; row++)
        {
            var negatives = contrast[row].narrow(0, 1, 8).data<long>().ToArray();
            long own = labels[indices[row]].ToInt64();
            Assert.All(negatives, n => Assert.NotEqual(own, labels[n].ToInt64()));
            // 8 others of 8: every other-class sample exactly once, as a draw without replacement.
            Assert.Equal(8, negatives.Distinct().Count());
        }
    }

    [Fact]
    public void Relax_draws_a_same_class_positive()
    {
        using var scope = NewDisposeScope();
        var labels = Labels();
        using var sampler = new CrdContrastSampler(CrdSampling.Relax, 12, 4, labels);
        var indices = tensor(new long[] { 1, 6, 9, 2, 7, 10 });
        var contrast = sampler.Draw(indices, new Generator(2));
        var positives = contrast.select(1, 0);
        Assert.Equal(labels.index_select(0, indices).data<long>().ToArray(), labels.index_select(0, positives).data<long>().ToArray());
    }

    [Fact]
    public void Samples_whose_other_classes_are_too_few_draw_with_replacement_the_others_without()
    {
        using var scope = NewDisposeScope();
        // Class 0 has 9 samples, class 1 has 2: k = 5 exceeds class 0's 2 others but not class 1's 9.
        var labels = tensor(new long[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 });
        using var sampler = new CrdContrastSampler(CrdSampling.Exact, 11, 5, labels);
        var contrast = sampler.Draw(tensor(new long[] { 0, 9 }), new Generator(3));
        Assert.All(contrast[0].narrow(0, 1, 5).data<long>().ToArray(), n => Assert.Contains(n, new long[] { 9, 10 }));
        var fromClassOne = contrast[1].narrow(0, 1, 5).data<long>().ToArray();
        Assert.All(fromClassOne, n => Assert.True(n < 9));
        Assert.Equal(5, fromClassOne.Distinct().Count());
    }

    [Fact]
    public void Uniform_draws_from_the_whole_set_and_the_same_generator_repeats_the_draw()
    {
        using var scope = NewDisposeScope();
        using var sampler = new CrdContrastSampler(CrdSampling.Uniform, 12, 11, labels: null);
        var indices = tensor(new long[] { 3, 4 });
        var first = sampler.Draw(indices, new Generator(4));
        Assert.Equal(first.data<long>().ToArray(), sampler.Draw(indices, new Generator(4)).data<long>().ToArray());
        Assert.Equal(new long[] { 3, 4 }, first.select(1, 0).data<long>().ToArray());
        Assert.True(first.min().ToInt64() >= 0 && first.max().ToInt64() < 12);
    }

    [Fact]
    public void Class_sampling_needs_labels_of_two_classes()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => new CrdContrastSampler(CrdSampling.Exact, 4, 3, zeros(4, ScalarType.Int64)));
        Assert.Equal(KdErrorIds.DatasetInvalid, ex.ErrorId);
        Assert.Contains("Sampling Uniform", ex.Message);
        Assert.Throws<KdException>(() => new CrdContrastSampler(CrdSampling.Relax, 4, 3, labels: null));
    }
}
