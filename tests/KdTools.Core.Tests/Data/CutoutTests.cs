using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class CutoutTests
{
    [Theory]
    [InlineData(16, 32, 32)]
    [InlineData(5, 9, 7)]
    public void Each_image_loses_one_hole_around_a_uniform_centre_clipped_at_the_borders(int length, int height, int width)
    {
        using var scope = NewDisposeScope();
        const int batch = 64;
        var images = full([batch, 3, height, width], 200, ScalarType.Byte);
        using var generator = new Generator(21);
        using var same = new Generator(21);

        var cut = Cutout.Apply(images, length, generator);

        // The reference: y = randint(h), x = randint(w); rows clip(y − L//2, 0, h) .. clip(y + L//2, 0, h), end excluded.
        var rows = randint(0, height, [batch], ScalarType.Int64, generator: same).data<long>().ToArray();
        var columns = randint(0, width, [batch], ScalarType.Int64, generator: same).data<long>().ToArray();
        var expected = new byte[batch * 3 * height * width];
        Array.Fill(expected, (byte)200);
        for (int b = 0; b < batch; b++)
            for (long y = Math.Clamp(rows[b] - length / 2, 0, height); y < Math.Clamp(rows[b] + length / 2, 0, height); y++)
                for (long x = Math.Clamp(columns[b] - length / 2, 0, width); x < Math.Clamp(columns[b] + length / 2, 0, width); x++)
                    for (int c = 0; c < 3; c++)
                        expected[((b * 3 + c) * height + y) * width + x] = 0;

        Assert.True(TensorCompare.Identical(tensor(expected, [batch, 3, height, width]), cut));
        var holes = cut.eq(0).all(1).sum([1, 2]).data<long>().ToArray();
        Assert.All(holes, h => Assert.InRange(h, 0, (length / 2 * 2) * (length / 2 * 2)));
        Assert.Contains(holes, h => h < (length / 2 * 2) * (length / 2 * 2));
    }

    [Fact]
    public void Policy_runs_crop_flip_AutoAugment_and_Cutout_reproducibly_and_names_them()
    {
        using var scope = NewDisposeScope();
        var policy = AugmentationPolicy.Standard with { PaddingMode = PaddingMode.Gray, AutoAugment = true, Cutout = 4 };
        Assert.Equal("crop4-gray,flip,autoaugment,cutout4", policy.ToString());
        Assert.Equal("cutout16", (AugmentationPolicy.None with { Cutout = 16 }).ToString());
        Assert.False((AugmentationPolicy.None with { AutoAugment = true }).IsNone);

        using var source = new Generator(2);
        var images = randint(0, 256, [32, 3, 12, 12], ScalarType.Int64, generator: source).to_type(ScalarType.Byte);
        float[] zero = [0f, 0f, 0f], one = [1f, 1f, 1f];
        static Tensor Bytes(Tensor prepared) => prepared.mul(255f).round().to_type(ScalarType.Byte);
        using var first = new Generator(4);
        using var second = new Generator(4);
        using var stepwise = new Generator(4);

        var a = Bytes(BatchAugmentation.Prepare(images, zero, one, policy, first));
        var b = Bytes(BatchAugmentation.Prepare(images, zero, one, policy, second));
        Assert.True(TensorCompare.Identical(a, b));

        // Crop and flip first, then AutoAugment, then Cutout, each drawing from the step's generator in that order.
        var cropped = Bytes(BatchAugmentation.Prepare(images, zero, one, policy with { AutoAugment = false, Cutout = 0 }, stepwise));
        var expected = Cutout.Apply(CifarAutoAugment.Apply(cropped, stepwise), 4, stepwise);
        Assert.True(TensorCompare.Identical(expected, a));
        Assert.False(TensorCompare.Identical(cropped, a));
    }

    [Fact]
    public void AutoAugment_rejects_images_that_are_neither_RGB_nor_grey()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => BatchAugmentation.Prepare(zeros([2, 2, 8, 8], ScalarType.Byte), [0f, 0f], [1f, 1f],
            AugmentationPolicy.None with { AutoAugment = true }, null));
        Assert.Equal(KdErrorIds.TrainingSettingInvalid, ex.ErrorId);
    }
}
