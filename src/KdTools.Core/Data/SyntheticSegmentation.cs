using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// The embedded segmentation dataset: seeded scenes of objects on a noisy background, generated with tensor ops in well
/// under a second. Class 0 is the background; each object class has a shape, a texture and a colour, and classes share
/// colours (and shapes, and textures) with others, so no single cue separates them and context pays off.
/// </summary>
/// <remarks>
/// A scene is a smooth random colour field with Gaussian noise. Up to <see cref="SyntheticSegmentationOptions.MaxObjects"/>
/// objects are painted in turn at random positions, sizes and rotations, with random brightness and colour casts; later
/// objects occlude earlier ones, in the image and in the label map alike. Pixels on an object's visible outline (those
/// whose upper or left neighbour has another class) are labelled <see cref="LabelMaps.IgnoreIndex"/>, as Pascal VOC
/// labels its object boundaries, so a one-pixel band counts in no loss and no metric.
/// </remarks>
public static class SyntheticSegmentation
{
    private enum Shape { Disc, Square, Diamond, Ring, Cross }

    private enum Texture { Plain, Stripes, Checker, Dots }

    private sealed record ObjectKind(Shape Shape, Texture Texture, string ColourName, float[] Colour);

    private static readonly float[] Red = [0.85f, 0.2f, 0.2f], Green = [0.2f, 0.75f, 0.3f], Blue = [0.25f, 0.35f, 0.9f],
        Yellow = [0.9f, 0.85f, 0.2f], Magenta = [0.8f, 0.3f, 0.8f], Cyan = [0.2f, 0.8f, 0.85f];

    /// <summary>Object classes 1, 2, …: every colour but two serves two classes, every shape and texture several.</summary>
    private static readonly ObjectKind[] ObjectClasses =
    [
        new(Shape.Disc, Texture.Plain, "red", Red), new(Shape.Square, Texture.Stripes, "green", Green),
        new(Shape.Diamond, Texture.Checker, "blue", Blue), new(Shape.Ring, Texture.Plain, "yellow", Yellow),
        new(Shape.Cross, Texture.Stripes, "red", Red), new(Shape.Square, Texture.Dots, "blue", Blue),
        new(Shape.Disc, Texture.Checker, "green", Green), new(Shape.Diamond, Texture.Plain, "magenta", Magenta),
        new(Shape.Ring, Texture.Stripes, "cyan", Cyan), new(Shape.Cross, Texture.Checker, "yellow", Yellow),
    ];

    /// <summary>The background plus one class per object kind.</summary>
    public const int MaxClasses = 11;

    private const double RadiusMin = 0.12, RadiusMax = 0.28;   // fractions of the image side
    private const double TexturePeriod = 1.0 / 8;              // fraction of the image side
    private const double TextureContrast = 0.3;
    private const double BrightnessMin = 0.8, BrightnessMax = 1.2;
    private const double ColourCastStd = 0.05;
    private const double ExtraObjectProbability = 0.75;
    private const double BackgroundLevel = 0.45, BackgroundVariation = 0.15;
    private const int BackgroundGrid = 4;
    private const int ScenesPerChunk = 256;
    private const int TrainStream = 1, TestStream = 2;

    public static KdDataset Create(SyntheticSegmentationOptions options)
    {
        Validate(options);
        var train = Split(options, options.TrainCount, TrainStream);
        try
        {
            var test = Split(options, options.TestCount, TestStream);
            var (mean, std) = ChannelStatistics.Compute(train);
            var source = $"synthetic-segmentation(classes={options.Classes},train={options.TrainCount},test={options.TestCount}," +
                         $"size={options.ImageSize},seed={options.Seed},noise={options.Noise.ToString(CultureInfo.InvariantCulture)}," +
                         $"objects={options.MaxObjects})";
            return new KdDataset("synthetic-segmentation", source, options.Classes, train, test, mean, std, ClassNames(options.Classes));
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>"background", then each object class by its look, for example "red disc" or "green striped square".</summary>
    public static IReadOnlyList<string> ClassNames(int classes) =>
        ObjectClasses.Take(classes - 1).Select(Describe).Prepend("background").ToList();

    private static string Describe(ObjectKind kind)
    {
        var texture = kind.Texture switch { Texture.Stripes => "striped ", Texture.Checker => "checkered ", Texture.Dots => "dotted ", _ => "" };
        return $"{kind.ColourName} {texture}{kind.Shape.ToString().ToLowerInvariant()}";
    }

    private static void Validate(SyntheticSegmentationOptions options)
    {
        static KdException Invalid(string message, object value) =>
            new(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument, message, value);

        if (options.Classes is < 2 or > MaxClasses)
            throw Invalid($"Classes must be 2 to {MaxClasses} (the background and up to {MaxClasses - 1} object kinds), got {options.Classes}", options.Classes);
        if (options.TrainCount < 1 || options.TestCount < 1)
            throw Invalid($"TrainCount and TestCount must be at least 1, got {options.TrainCount} and {options.TestCount}", options.TrainCount);
        if (options.ImageSize < 16)
            throw Invalid($"ImageSize must be at least 16 pixels, got {options.ImageSize}", options.ImageSize);
        if (options.MaxObjects < 1)
            throw Invalid($"MaxObjects must be at least 1, got {options.MaxObjects}", options.MaxObjects);
        if (!(options.Noise >= 0) || double.IsInfinity(options.Noise))
            throw Invalid($"Noise must be a finite value of zero or more, got {options.Noise}", options.Noise);
    }

    private static ImageSet Split(SyntheticSegmentationOptions options, int count, int stream)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(SyntheticDataset.DeriveSeed(options.Seed, stream));
        var images = new List<Tensor>();
        var labels = new List<Tensor>();
        for (var start = 0; start < count; start += ScenesPerChunk)
        {
            var (chunkImages, chunkLabels) = Render(options, Math.Min(ScenesPerChunk, count - start), generator);
            images.Add(chunkImages);
            labels.Add(chunkLabels);
        }
        return new ImageSet(cat(images, 0).MoveToOuterDisposeScope(), cat(labels, 0).MoveToOuterDisposeScope());
    }

    /// <summary><paramref name="count"/> scenes: uint8 images [count, 3, S, S] and uint8 label maps [count, S, S].</summary>
    private static (Tensor Images, Tensor Labels) Render(SyntheticSegmentationOptions options, int count, Generator generator)
    {
        int size = options.ImageSize;
        var background = nn.functional.interpolate(randn([count, 3, BackgroundGrid, BackgroundGrid], generator: generator),
            [size, size], mode: InterpolationMode.Bilinear, align_corners: true);
        var image = background.mul_(BackgroundVariation).add_(BackgroundLevel);
        var labels = zeros([count, size, size], ScalarType.Int64);

        // Pixel centres, [1, S, S].
        var coordinates = arange(size, ScalarType.Float32).add_(0.5f);
        var x = coordinates.view(1, 1, size).expand(1, size, size);
        var y = coordinates.view(1, size, 1).expand(1, size, size);
        var shapes = tensor(ObjectClasses.Select(k => (long)k.Shape).ToArray());
        var textures = tensor(ObjectClasses.Select(k => (long)k.Texture).ToArray());
        var colours = tensor(ObjectClasses.SelectMany(k => k.Colour).ToArray()).view(ObjectClasses.Length, 3);

        for (int slot = 0; slot < options.MaxObjects; slot++)
        {
            var present = slot == 0 ? ones([count], ScalarType.Bool)
                : rand([count], generator: generator).lt(ExtraObjectProbability);
            var kind = randint(0, options.Classes - 1, [count], ScalarType.Int64, generator: generator);
            var centreX = SyntheticDataset.Uniform([count, 1, 1], 0, size, generator);
            var centreY = SyntheticDataset.Uniform([count, 1, 1], 0, size, generator);
            var radius = SyntheticDataset.Uniform([count, 1, 1], RadiusMin * size, RadiusMax * size, generator);
            var angle = SyntheticDataset.Uniform([count, 1, 1], 0, Math.PI / 2, generator);
            var phase = SyntheticDataset.Uniform([count, 1, 1], 0, 2 * Math.PI, generator);
            var brightness = SyntheticDataset.Uniform([count, 1, 1, 1], BrightnessMin, BrightnessMax, generator);
            var cast = randn([count, 3, 1, 1], generator: generator).mul_(ColourCastStd);

            // Object-local coordinates: rotated about the centre, in units of the radius.
            var dx = x - centreX;
            var dy = y - centreY;
            var (cos, sin) = (angle.cos(), angle.sin());
            var u = (dx * cos + dy * sin) / radius;
            var v = (dy * cos - dx * sin) / radius;

            var inside = ShapeMask(shapes.index_select(0, kind), u, v).logical_and_(present.view(count, 1, 1));
            var texture = TexturePattern(textures.index_select(0, kind), u * radius, v * radius, phase, size);
            var colour = colours.index_select(0, kind).view(count, 3, 1, 1).mul(brightness).add_(cast);
            var painted = colour * texture.mul(TextureContrast).add_(1).unsqueeze(1);

            image = where(inside.unsqueeze(1), painted, image);
            labels = where(inside, (kind + 1).view(count, 1, 1), labels);
        }

        // A pixel whose upper or left neighbour has another class lies on an outline.
        var ignore = zeros([count, size, size], ScalarType.Bool);
        ignore.narrow(1, 1, size - 1).logical_or_(labels.narrow(1, 1, size - 1).ne(labels.narrow(1, 0, size - 1)));
        ignore.narrow(2, 1, size - 1).logical_or_(labels.narrow(2, 1, size - 1).ne(labels.narrow(2, 0, size - 1)));
        labels.masked_fill_(ignore, LabelMaps.IgnoreIndex);

        image.add_(randn([count, 3, size, size], generator: generator).mul_(options.Noise));
        return (image.clamp_(0, 1).mul_(255).round_().to_type(ScalarType.Byte), labels.to_type(ScalarType.Byte));
    }

    /// <summary>Which pixels each object covers, from its shape index [count] and local coordinates in radii.</summary>
    private static Tensor ShapeMask(Tensor shape, Tensor u, Tensor v)
    {
        var (au, av) = (u.abs(), v.abs());
        var distance = (u.square() + v.square()).sqrt();
        Tensor[] masks =
        [
            distance.lt(1),                                                  // disc
            au.maximum(av).lt(0.8),                                          // square
            (au + av).lt(1.1),                                               // diamond
            distance.lt(1).logical_and_(distance.gt(0.5)),                   // ring
            au.lt(0.32).logical_and_(av.lt(1)).logical_or_(av.lt(0.32).logical_and_(au.lt(1))), // cross
        ];
        return Select(shape, masks);
    }

    /// <summary>−1 or +1 per pixel (0 for plain), from the texture index [count] and local coordinates in pixels.</summary>
    private static Tensor TexturePattern(Tensor texture, Tensor u, Tensor v, Tensor phase, int size)
    {
        double frequency = 2 * Math.PI / (TexturePeriod * size);
        var wavesU = (u * frequency + phase).sin();
        var wavesV = (v * frequency + phase).sin();
        Tensor[] patterns =
        [
            zeros_like(u),                                                    // plain
            wavesU.sign(),                                                    // stripes
            (wavesU * wavesV).sign(),                                         // checker
            ((u * frequency).cos() + (v * frequency).cos()).gt(1).to_type(ScalarType.Float32).mul_(2).sub_(1), // dots
        ];
        return Select(texture, patterns);
    }

    /// <summary>Per scene, the option its index [count] picks out of <paramref name="options"/> (each [count, S, S]).</summary>
    private static Tensor Select(Tensor index, Tensor[] options)
    {
        var stacked = stack(options.Select(o => o.to_type(ScalarType.Float32)), 0); // [options, count, S, S]
        var count = index.shape[0];
        var pick = index.view(1, count, 1, 1).expand(1, count, stacked.shape[2], stacked.shape[3]);
        var chosen = stacked.gather(0, pick).squeeze(0);
        return options[0].dtype == ScalarType.Bool ? chosen.to_type(ScalarType.Bool) : chosen;
    }
}
