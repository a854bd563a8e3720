using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class SegmentationBatchAugmentationTests
{
    private static readonly float[] Mean = [0.5f, 0.25f, 0.5f], Std = [0.5f, 0.25f, 0.125f];

    /// <summary>Batch of <paramref name="batch"/> 8×8 scenes; label (y, x) = 8y + x (unique), image channels derived from it.</summary>
    private static (Tensor Images, Tensor Labels) UniqueScenes(int batch)
    {
        var labels = arange(64, ScalarType.Int64).view(1, 8, 8).add(arange(batch, ScalarType.Int64).view(batch, 1, 1).mul(64))
            .remainder(250).to_type(ScalarType.Byte);
        var images = stack([labels, labels.mul(3), labels.add(5)], 1).to_type(ScalarType.Byte);
        return (images, labels);
    }

    private static Tensor Normalised(Tensor images) =>
        BatchAugmentation.Prepare(images, Mean, Std, AugmentationPolicy.None, generator: null);

    [Fact]
    public void Without_augmentation_images_are_normalised_and_labels_become_int64()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(3);

        var (x, y) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, SegmentationAugmentationPolicy.None, null);

        Assert.Equal(ScalarType.Int64, y.dtype);
        Assert.True(TensorCompare.Identical(labels.to_type(ScalarType.Int64), y));
        Assert.True(TensorCompare.Identical(Normalised(images), x));
    }

    [Fact]
    public void Scale_one_without_flip_is_the_identity_through_the_sampling_path()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(4);
        var policy = new SegmentationAugmentationPolicy { MinScale = 1, MaxScale = 1, Flip = false, CropSize = 8 };

        var (x, y) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(1));

        Assert.True(TensorCompare.Identical(labels.to_type(ScalarType.Int64), y));
        Assert.True(x.allclose(Normalised(images), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Flip_mirrors_image_and_labels_together_for_some_samples()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(16);
        var policy = new SegmentationAugmentationPolicy { MinScale = 1, MaxScale = 1, Flip = true };

        var (x, y) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(3));

        var expectedImages = Normalised(images);
        int mirrored = 0;
        for (int b = 0; b < 16; b++)
        {
            bool flipped = !TensorCompare.Identical(y[b], labels[b].to_type(ScalarType.Int64));
            if (flipped) mirrored++;
            var labelsB = flipped ? labels[b].flip(1) : labels[b];
            var imageB = flipped ? expectedImages[b].flip(2) : expectedImages[b];
            Assert.True(TensorCompare.Identical(labelsB.to_type(ScalarType.Int64), y[b]));
            Assert.True(x[b].allclose(imageB, rtol: 0, atol: 1e-5));
        }
        Assert.InRange(mirrored, 3, 13);
    }

    [Fact]
    public void Scale_two_crops_a_window_of_the_doubled_scene_with_nearest_labels()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(6);
        var policy = new SegmentationAugmentationPolicy { MinScale = 2, MaxScale = 2, Flip = false };

        var (_, y) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(5));

        // The 16×16 doubled map has 9×9 possible 8×8 windows; exactly one of them is the output.
        for (int b = 0; b < 6; b++)
        {
            var doubled = labels[b].repeat_interleave(2, 0).repeat_interleave(2, 1).to_type(ScalarType.Int64);
            var windows = Enumerable.Range(0, 81)
                .Count(o => TensorCompare.Identical(doubled.narrow(0, o / 9, 8).narrow(1, o % 9, 8), y[b]));
            Assert.Equal(1, windows);
        }
    }

    [Fact]
    public void Scale_one_half_averages_pixel_blocks_and_pads_with_mean_and_ignore()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(2);
        var policy = new SegmentationAugmentationPolicy { MinScale = 0.5, MaxScale = 0.5, Flip = false };

        var (x, y) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(7));

        // A 4×4 scene at the top-left (the only offset), the rest padding: image 0 (the mean), labels 255.
        var expectedLabels = full(2, 8, 8, 255L, ScalarType.Int64);
        expectedLabels.narrow(1, 0, 4).narrow(2, 0, 4).copy_(labels.to_type(ScalarType.Int64).slice(1, 0, 8, 2).slice(2, 0, 8, 2));
        Assert.True(TensorCompare.Identical(expectedLabels, y));
        var blockMeans = nn.functional.avg_pool2d(Normalised(images), 2);
        Assert.True(x.narrow(2, 0, 4).narrow(3, 0, 4).allclose(blockMeans, rtol: 0, atol: 1e-5));
        Assert.Equal(0, x.narrow(2, 4, 4).abs().sum().item<float>());
        Assert.Equal(0, x.narrow(3, 4, 4).abs().sum().item<float>());
    }

    [Fact]
    public void A_crop_larger_than_the_scene_pads_bottom_and_right()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(2);
        var policy = new SegmentationAugmentationPolicy { MinScale = 1, MaxScale = 1, Flip = false, CropSize = 12 };

        var (x, y) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(9));

        Assert.Equal(new long[] { 2, 3, 12, 12 }, x.shape);
        Assert.True(TensorCompare.Identical(labels.to_type(ScalarType.Int64), y.narrow(1, 0, 8).narrow(2, 0, 8)));
        Assert.True(y.narrow(1, 8, 4).eq(255).all().item<bool>());
        Assert.True(y.narrow(2, 8, 4).eq(255).all().item<bool>());
    }

    [Fact]
    public void The_generator_decides_everything()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(8);
        var policy = SegmentationAugmentationPolicy.Standard;

        var (x1, y1) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(11));
        var (x2, y2) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(11));
        var (_, y3) = SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, new Generator(12));

        Assert.True(TensorCompare.Identical(x1, x2));
        Assert.True(TensorCompare.Identical(y1, y2));
        Assert.False(TensorCompare.Identical(y1, y3));
        Assert.Equal("scale0.5-2,flip", policy.ToString());
    }

    [Fact]
    public void Invalid_scales_fail_before_any_work()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = UniqueScenes(1);
        var policy = new SegmentationAugmentationPolicy { MinScale = 2, MaxScale = 1 };

        var ex = Assert.Throws<KdException>(() => SegmentationBatchAugmentation.Prepare(images, labels, Mean, Std, policy, null));

        Assert.Equal(KdErrorIds.TrainingSettingInvalid, ex.ErrorId);
    }
}
