using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// The embedded dataset for demos and tests: seeded, generated in well under a second, learnable by a small CNN but
/// not trivially (a linear model on pixels stays far behind), so bigger networks have something to gain and to distil.
/// </summary>
/// <remarks>
/// Each class owns a few smooth colour prototypes ("modes"): a coarse random field shared by the class plus a finer
/// field per mode, both upsampled bilinearly from a small Gaussian grid onto a canvas larger than the image. A sample
/// takes one mode of its class at a random position (a window of the canvas), randomly mirrored, with random contrast,
/// overlays a window of another class's prototype at a lower random weight, shifts each channel's brightness, adds
/// Gaussian noise, and is quantised to uint8. Shifts of up to a quarter of the image and mirroring defeat pixel-wise
/// templates, so convolutional features pay off; the brightness shift blurs each class's mean colour; the modes make
/// classes multi-modal; the distractor makes some samples genuinely ambiguous, which gives a teacher's soft labels
/// something to carry.
/// </remarks>
public static class SyntheticDataset
{
    private const int ModesPerClass = 4;
    private const int CoarseGrid = 6;
    private const int DetailGrid = 12;
    private const double DetailWeight = 1.0;
    private const double Amplitude = 0.2;
    private const double ContrastMin = 0.6, ContrastMax = 1.4;
    private const double DistractorWeightMin = 0.3, DistractorWeightMax = 0.6;
    private const double BrightnessStd = 0.1;

    // Bounds the float working set (two canvases per sample) to a few tens of MB whatever the split size.
    private const int SamplesPerChunk = 1024;

    // Independent generator streams, so the test split does not change when TrainCount does.
    private const int PrototypeStream = 0, TrainStream = 1, TestStream = 2;

    public static KdDataset Create(SyntheticDatasetOptions options)
    {
        Validate(options);
        using var prototypes = Prototypes(options);
        var train = Split(prototypes, options, options.TrainCount, TrainStream);
        var test = Split(prototypes, options, options.TestCount, TestStream);
        var (mean, std) = ChannelStatistics.Compute(train);
        var source = $"synthetic(classes={options.Classes},train={options.TrainCount},test={options.TestCount}," +
                     $"size={options.ImageSize},channels={options.Channels},seed={options.Seed}," +
                     $"noise={options.Noise.ToString(CultureInfo.InvariantCulture)})";
        return new KdDataset("synthetic", source, options.Classes, train, test, mean, std);
    }

    private static void Validate(SyntheticDatasetOptions options)
    {
        static KdException Invalid(string message, object value) =>
            new(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument, message, value);

        if (options.Classes < 2)
            throw Invalid($"Classes must be at least 2, got {options.Classes}", options.Classes);
        if (options.TrainCount < options.Classes)
            throw Invalid($"TrainCount must be at least Classes ({options.Classes}) so every class has a training image, got {options.TrainCount}", options.TrainCount);
        if (options.TestCount < 1)
            throw Invalid($"TestCount must be at least 1, got {options.TestCount}", options.TestCount);
        if (options.ImageSize < 8)
            throw Invalid($"ImageSize must be at least 8 pixels, got {options.ImageSize}", options.ImageSize);
        if (options.Channels < 1)
            throw Invalid($"Channels must be at least 1, got {options.Channels}", options.Channels);
        if (!(options.Noise >= 0) || double.IsInfinity(options.Noise))
            throw Invalid($"Noise must be a finite value of zero or more, got {options.Noise}", options.Noise);
    }

    private static int MaxShift(int imageSize) => imageSize / 4;

    /// <summary>SplitMix64 finaliser: well-spread generator seeds from one user seed and a stream number.</summary>
    internal static ulong DeriveSeed(long seed, int stream)
    {
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)stream * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Prototype canvases, float32 [Classes * ModesPerClass, Channels, canvas, canvas]; row = class * ModesPerClass + mode.</summary>
    private static Tensor Prototypes(SyntheticDatasetOptions options)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(DeriveSeed(options.Seed, PrototypeStream));
        var canvas = options.ImageSize + 2 * MaxShift(options.ImageSize);
        var classes = options.Classes;
        var channels = options.Channels;
        var coarse = Smooth(randn([classes, channels, CoarseGrid, CoarseGrid], generator: generator), canvas);
        var detail = Smooth(randn([classes * ModesPerClass, channels, DetailGrid, DetailGrid], generator: generator), canvas);
        var perMode = coarse.repeat_interleave(ModesPerClass, 0);
        return perMode.add_(detail.mul_(DetailWeight)).MoveToOuterDisposeScope();
    }

    private static Tensor Smooth(Tensor grid, int size) =>
        nn.functional.interpolate(grid, [size, size], mode: InterpolationMode.Bilinear, align_corners: true);

    private static ImageSet Split(Tensor prototypes, SyntheticDatasetOptions options, int count, int stream)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(DeriveSeed(options.Seed, stream));
        // Balanced: class c gets every Classes-th slot of a shuffled order.
        var labels = arange(count, ScalarType.Int64).remainder_(options.Classes)
            .index_select(0, randperm(count, ScalarType.Int64, generator: generator));
        var chunks = new List<Tensor>();
        for (var start = 0; start < count; start += SamplesPerChunk)
            chunks.Add(Render(prototypes, options, labels.narrow(0, start, Math.Min(SamplesPerChunk, count - start)), generator));
        var images = chunks.Count == 1 ? chunks[0] : cat(chunks, 0);
        return new ImageSet(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    private static Tensor Render(Tensor prototypes, SyntheticDatasetOptions options, Tensor labels, Generator generator)
    {
        var count = labels.shape[0];
        var classes = options.Classes;
        var channels = options.Channels;
        var size = options.ImageSize;

        var ownRows = labels * ModesPerClass + randint(0, ModesPerClass, [count], ScalarType.Int64, generator: generator);
        var otherClasses = (labels + randint(1, classes, [count], ScalarType.Int64, generator: generator)).remainder_(classes);
        var otherRows = otherClasses * ModesPerClass + randint(0, ModesPerClass, [count], ScalarType.Int64, generator: generator);
        var own = RandomWindow(prototypes.index_select(0, ownRows), size, generator);
        var other = RandomWindow(prototypes.index_select(0, otherRows), size, generator);

        var contrast = Uniform([count, 1, 1, 1], ContrastMin, ContrastMax, generator);
        var otherWeight = Uniform([count, 1, 1, 1], DistractorWeightMin, DistractorWeightMax, generator);
        var brightness = randn([count, channels, 1, 1], generator: generator).mul_(BrightnessStd);
        var noise = randn([count, channels, size, size], generator: generator).mul_(options.Noise);

        var pattern = own.add_(other.mul_(otherWeight)).mul_(contrast).mul_(Amplitude);
        var intensity = pattern.add_(brightness).add_(noise).add_(0.5);
        return intensity.clamp_(0, 1).mul_(255).round_().to_type(ScalarType.Byte);
    }

    private static Tensor RandomWindow(Tensor canvases, int size, Generator generator)
    {
        var count = canvases.shape[0];
        var positions = canvases.shape[2] - size + 1;
        var top = randint(0, positions, [count], ScalarType.Int64, generator: generator);
        var left = randint(0, positions, [count], ScalarType.Int64, generator: generator);
        var mirror = randint(0, 2, [count], ScalarType.Int64, generator: generator).to_type(ScalarType.Bool);
        return BatchAugmentation.CropWindows(canvases, top, left, mirror, size, size);
    }

    internal static Tensor Uniform(long[] shape, double low, double high, Generator generator) =>
        rand(shape, generator: generator).mul_(high - low).add_(low);
}
