using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>Settings of the built-in synthetic dataset.</summary>
public sealed record SyntheticDatasetOptions
{
    public int Classes { get; init; } = 10;
    public int TrainCount { get; init; } = 2000;
    public int TestCount { get; init; } = 500;
    public int ImageSize { get; init; } = 32;
    public int Channels { get; init; } = 3;
    public long Seed { get; init; } = 1;

    /// <summary>Standard deviation of the per-pixel noise, relative to a prototype's (unit) contrast.</summary>
    public double Noise { get; init; } = 0.9;

    /// <summary>Weight of a random other class's prototype blended into every sample (the confusable part).</summary>
    public double Distractor { get; init; } = 0.45;
}

/// <summary>
/// The embedded default dataset: seeded, learnable, not trivial. Each class has a smooth random colour pattern; a
/// sample is its class pattern, randomly shifted and scaled in contrast, blended with another class's pattern and
/// noise. Small networks learn it well above chance in a few epochs, deeper ones learn it better, so distillation has
/// something to transfer. Generated with batched tensor ops from one generator: the same seed gives the same bytes.
/// </summary>
public static class SyntheticDataset
{
    private const int Shift = 3;

    public static KdDataset Create(SyntheticDatasetOptions o)
    {
        if (o.Classes < 2 || o.TrainCount < 1 || o.TestCount < 1 || o.ImageSize < 4 || o.Channels < 1)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"synthetic dataset needs ≥ 2 classes, ≥ 1 train and test image, size ≥ 4 and ≥ 1 channel; got {o}");
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)o.Seed);
        int n = o.TrainCount + o.TestCount, size = o.ImageSize, padded = size + 2 * Shift;

        var coarse = torch.randn([o.Classes, o.Channels, 4, 4], generator: generator);
        var prototypes = nn.functional.interpolate(coarse, size: [padded, padded], mode: InterpolationMode.Bilinear, align_corners: false);
        prototypes = prototypes / prototypes.std(dimensions: [1, 2, 3], keepdim: true);

        var labels = (torch.arange(n, dtype: ScalarType.Int64) % o.Classes).index_select(0, torch.randperm(n, generator: generator));
        var others = (labels + torch.randint(1, o.Classes, [n], generator: generator, dtype: ScalarType.Int64)) % o.Classes;
        var contrast = torch.rand([n, 1, 1, 1], generator: generator) * 0.8 + 0.6;
        var signal = Crop(prototypes.index_select(0, labels), size, generator) * contrast
                     + Crop(prototypes.index_select(0, others), size, generator) * o.Distractor
                     + torch.randn([n, o.Channels, size, size], generator: generator) * o.Noise;
        var images = (signal * 40 + 128).clamp(0, 255).round().to_type(ScalarType.Byte);

        var train = new ImageSet(images.narrow(0, 0, o.TrainCount).clone().MoveToOuterDisposeScope(),
            labels.narrow(0, 0, o.TrainCount).clone().MoveToOuterDisposeScope());
        var test = new ImageSet(images.narrow(0, o.TrainCount, o.TestCount).clone().MoveToOuterDisposeScope(),
            labels.narrow(0, o.TrainCount, o.TestCount).clone().MoveToOuterDisposeScope());
        var (mean, std) = ChannelStatistics(train.Images);
        var source = string.Create(CultureInfo.InvariantCulture,
            $"synthetic(classes={o.Classes},train={o.TrainCount},test={o.TestCount},size={size},seed={o.Seed})");
        return new KdDataset("synthetic", source, o.Classes, train, test, mean, std,
            Enumerable.Range(0, o.Classes).Select(c => $"class{c}").ToList());
    }

    /// <summary>Per-channel mean and standard deviation in [0, 1] units.</summary>
    public static (float[] Mean, float[] Std) ChannelStatistics(Tensor imagesUint8)
    {
        using var scope = torch.NewDisposeScope();
        var x = imagesUint8.to_type(ScalarType.Float64) / 255.0;
        var mean = x.mean([0, 2, 3]).to_type(ScalarType.Float32).data<float>().ToArray();
        var std = x.std([0, 2, 3]).to_type(ScalarType.Float32).data<float>().ToArray();
        return (mean, std.Select(s => Math.Max(s, 1e-6f)).ToArray());
    }

    /// <summary>A random size×size window of each padded pattern (one offset per sample).</summary>
    private static Tensor Crop(Tensor padded, int size, Generator generator)
    {
        long b = padded.shape[0], c = padded.shape[1], span = padded.shape[2];
        var dy = torch.randint(0, span - size + 1, [b], generator: generator, dtype: ScalarType.Int64);
        var dx = torch.randint(0, span - size + 1, [b], generator: generator, dtype: ScalarType.Int64);
        var rows = (dy.view(b, 1) + torch.arange(size)).view(b, 1, size, 1).expand(b, c, size, span);
        var cols = (dx.view(b, 1) + torch.arange(size)).view(b, 1, 1, size).expand(b, c, size, size);
        return padded.gather(2, rows).gather(3, cols);
    }
}
