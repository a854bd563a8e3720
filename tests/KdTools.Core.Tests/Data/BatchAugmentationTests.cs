using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Data;

public class BatchAugmentationTests
{
    private static readonly float[] Mean = [0.5f, 0.4f];
    private static readonly float[] Std = [0.25f, 0.2f];
    private static readonly float[] Identity = [0f, 0f];
    private static readonly float[] Unit = [1f, 1f];

    private static Tensor RandomImages(int count, int seed = 11)
    {
        using var generator = new Generator((ulong)seed);
        return randint(0, 256, [count, 2, 5, 6], ScalarType.Int64, generator: generator).to_type(ScalarType.Byte);
    }

    /// <summary>With mean 0 and std 1 the output is x / 255, so the uint8 pixels can be recovered exactly.</summary>
    private static Tensor BackToBytes(Tensor prepared) => prepared.mul(255f).round().to_type(ScalarType.Byte);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Output_is_float32_of_the_input_shape(bool augment)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(1);
        var prepared = BatchAugmentation.Prepare(RandomImages(3), Mean, Std, augment, generator: generator);

        Assert.Equal(ScalarType.Float32, prepared.dtype);
        Assert.Equal(new long[] { 3, 2, 5, 6 }, prepared.shape);
    }

    [Fact]
    public void Without_augmentation_it_only_scales_and_normalises()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(4);
        var expected = (images.to_type(ScalarType.Float32) / 255f - tensor(Mean).view(1, 2, 1, 1)) / tensor(Std).view(1, 2, 1, 1);

        var prepared = BatchAugmentation.Prepare(images, Mean, Std, augment: false);

        Assert.True(TensorCompare.Identical(prepared, expected));
        Assert.Equal(-2f, BatchAugmentation.Prepare(zeros([1, 2, 1, 1], ScalarType.Byte), Mean, Std, false)[0, 0, 0, 0].item<float>());
    }

    [Fact]
    public void Without_padding_augmentation_only_mirrors_some_samples()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var images = RandomImages(32);

        var output = BackToBytes(BatchAugmentation.Prepare(images, Identity, Unit, augment: true, padding: 0, generator: generator));

        var mirrored = 0;
        for (var i = 0; i < 32; i++)
        {
            var same = TensorCompare.Identical(output[i], images[i]);
            var flipped = TensorCompare.Identical(output[i], images[i].flip(2));
            Assert.True(same ^ flipped, $"sample {i} is neither the input nor its mirror");
            if (flipped) mirrored++;
        }
        Assert.InRange(mirrored, 4, 28);
    }

    [Fact]
    public void Crops_are_windows_of_the_zero_padded_input_at_independent_offsets()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        const int padding = 2;
        var images = RandomImages(24);
        var padded = nn.functional.pad(images, [padding, padding, padding, padding]);

        var output = BackToBytes(BatchAugmentation.Prepare(images, Identity, Unit, augment: true, padding, generator));

        var placements = new HashSet<(int Top, int Left, bool Mirror)>();
        for (var i = 0; i < 24; i++)
        {
            var match = Placements(padding).Where(p => TensorCompare.Identical(output[i], Window(padded[i], p))).ToList();
            Assert.True(match.Count > 0, $"sample {i} is not a window of its padded input");
            placements.UnionWith(match);
        }
        Assert.True(placements.Count >= 6, "offsets and flips should vary across the batch");
    }

    private static IEnumerable<(int Top, int Left, bool Mirror)> Placements(int padding) =>
        from top in Enumerable.Range(0, 2 * padding + 1)
        from left in Enumerable.Range(0, 2 * padding + 1)
        from mirror in new[] { false, true }
        select (top, left, mirror);

    private static Tensor Window(Tensor padded, (int Top, int Left, bool Mirror) p)
    {
        var window = padded.narrow(1, p.Top, 5).narrow(2, p.Left, 6);
        return p.Mirror ? window.flip(2) : window;
    }

    [Fact]
    public void Crop_windows_follow_the_given_offsets_and_mirror_flags()
    {
        using var scope = NewDisposeScope();
        var canvases = RandomImages(3);
        var top = tensor(new long[] { 0, 2, 1 });
        var left = tensor(new long[] { 3, 0, 1 });
        var mirror = tensor(new[] { false, true, false });

        var windows = BatchAugmentation.CropWindows(canvases, top, left, mirror, height: 3, width: 3);

        Assert.True(TensorCompare.Identical(windows[0], canvases[0].narrow(1, 0, 3).narrow(2, 3, 3)));
        Assert.True(TensorCompare.Identical(windows[1], canvases[1].narrow(1, 2, 3).narrow(2, 0, 3).flip(2)));
        Assert.True(TensorCompare.Identical(windows[2], canvases[2].narrow(1, 1, 3).narrow(2, 1, 3)));
    }

    [Fact]
    public void Same_generator_seed_gives_the_same_augmentation()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(16);
        using var first = new Generator(9);
        using var second = new Generator(9);
        using var other = new Generator(10);

        var a = BatchAugmentation.Prepare(images, Mean, Std, augment: true, generator: first);
        var b = BatchAugmentation.Prepare(images, Mean, Std, augment: true, generator: second);
        var c = BatchAugmentation.Prepare(images, Mean, Std, augment: true, generator: other);

        Assert.True(TensorCompare.Identical(a, b));
        Assert.False(TensorCompare.Identical(a, c));
    }

    [Fact]
    public void Statistics_of_the_wrong_length_are_rejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => BatchAugmentation.Prepare(RandomImages(1), [0.5f], [0.2f], augment: false));
        Assert.Throws<ArgumentException>(() => BatchAugmentation.Prepare(RandomImages(1).to_type(ScalarType.Float32), Mean, Std, augment: false));
    }
}
