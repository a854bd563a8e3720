using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// AutoAugment's CIFAR-10 policy (Cubuk et al. 2019) as the implementation the BYOT authors train with defines it
/// (DeepVoltaire's <c>CIFAR10Policy</c>, in their repository's autoaugment.py): each image draws one of 25 sub-policies uniformly; a sub-policy
/// applies its first operation with probability p1, then its second with probability p2. Magnitude level m of 0..9
/// indexes ten evenly spaced values (numpy's <c>linspace</c>): shear 0..0.3, translation 0..150/331 of the image
/// size, rotation 0..30°, colour, contrast, brightness and sharpness 0..0.9 (factor 1 ± value), posterize bits
/// round(8..4), solarize threshold 256..0. Shears, translations and enhancements take a random sign per application;
/// rotations turn counter-clockwise only, as there. The operations are <see cref="ImageOperations"/>, equal to PIL's.
/// </summary>
internal static class CifarAutoAugment
{
    /// <summary>An operation of the policy.</summary>
    public enum Operation
    {
        ShearX, ShearY, TranslateX, TranslateY, Rotate, AutoContrast, Invert, Equalize, Solarize, Posterize,
        Contrast, Color, Brightness, Sharpness,
    }

    /// <summary>One half of a sub-policy: applied with <paramref name="Probability"/>, at magnitude <paramref name="Level"/>.</summary>
    public readonly record struct Step(double Probability, Operation Operation, int Level);

    /// <summary>Two operations applied in turn, each with its own probability.</summary>
    public readonly record struct SubPolicy(Step First, Step Second);

    private const int Levels = 10;

    /// <summary>The policy's 25 sub-policies, in the paper's (and the implementation's) order.</summary>
    public static readonly SubPolicy[] SubPolicies =
    [
        new(new(0.1, Operation.Invert, 7), new(0.2, Operation.Contrast, 6)),
        new(new(0.7, Operation.Rotate, 2), new(0.3, Operation.TranslateX, 9)),
        new(new(0.8, Operation.Sharpness, 1), new(0.9, Operation.Sharpness, 3)),
        new(new(0.5, Operation.ShearY, 8), new(0.7, Operation.TranslateY, 9)),
        new(new(0.5, Operation.AutoContrast, 8), new(0.9, Operation.Equalize, 2)),

        new(new(0.2, Operation.ShearY, 7), new(0.3, Operation.Posterize, 7)),
        new(new(0.4, Operation.Color, 3), new(0.6, Operation.Brightness, 7)),
        new(new(0.3, Operation.Sharpness, 9), new(0.7, Operation.Brightness, 9)),
        new(new(0.6, Operation.Equalize, 5), new(0.5, Operation.Equalize, 1)),
        new(new(0.6, Operation.Contrast, 7), new(0.6, Operation.Sharpness, 5)),

        new(new(0.7, Operation.Color, 7), new(0.5, Operation.TranslateX, 8)),
        new(new(0.3, Operation.Equalize, 7), new(0.4, Operation.AutoContrast, 8)),
        new(new(0.4, Operation.TranslateY, 3), new(0.2, Operation.Sharpness, 6)),
        new(new(0.9, Operation.Brightness, 6), new(0.2, Operation.Color, 8)),
        new(new(0.5, Operation.Solarize, 2), new(0.0, Operation.Invert, 3)),

        new(new(0.2, Operation.Equalize, 0), new(0.6, Operation.AutoContrast, 0)),
        new(new(0.2, Operation.Equalize, 8), new(0.6, Operation.Equalize, 4)),
        new(new(0.9, Operation.Color, 9), new(0.6, Operation.Equalize, 6)),
        new(new(0.8, Operation.AutoContrast, 4), new(0.2, Operation.Solarize, 8)),
        new(new(0.1, Operation.Brightness, 3), new(0.7, Operation.Color, 0)),

        new(new(0.4, Operation.Solarize, 5), new(0.9, Operation.AutoContrast, 3)),
        new(new(0.9, Operation.TranslateY, 9), new(0.7, Operation.TranslateY, 9)),
        new(new(0.9, Operation.AutoContrast, 2), new(0.8, Operation.Solarize, 3)),
        new(new(0.8, Operation.Equalize, 8), new(0.1, Operation.Invert, 3)),
        new(new(0.7, Operation.TranslateY, 9), new(0.9, Operation.AutoContrast, 1)),
    ];

    /// <summary>What a batch draws: per image its sub-policy, whether each half applies, and each half's sign (±1).</summary>
    public sealed record Plan(int[] SubPolicy, bool[] ApplyFirst, bool[] ApplySecond, int[] SignFirst, int[] SignSecond);

    /// <summary>
    /// The magnitude of <paramref name="operation"/> at <paramref name="level"/> before sign and image size, as numpy's
    /// <c>linspace(start, stop, 10)[level]</c> computes it (<c>level·step + start</c>, the last value exactly <c>stop</c>).
    /// Operations without a magnitude give 0.
    /// </summary>
    public static double Magnitude(Operation operation, int level) => operation switch
    {
        Operation.ShearX or Operation.ShearY => Linspace(0, 0.3, level),
        Operation.TranslateX or Operation.TranslateY => Linspace(0, 150.0 / 331, level),
        Operation.Rotate => Linspace(0, 30, level),
        Operation.Color or Operation.Contrast or Operation.Brightness or Operation.Sharpness => Linspace(0, 0.9, level),
        Operation.Posterize => Math.Round(Linspace(8, 4, level), MidpointRounding.ToEven),
        Operation.Solarize => Linspace(256, 0, level),
        _ => 0,
    };

    private static double Linspace(double start, double stop, int level) =>
        level == Levels - 1 ? stop : level * ((stop - start) / (Levels - 1)) + start;

    /// <summary>Draws a batch's sub-policies, application flags and signs from <paramref name="generator"/>.</summary>
    public static Plan Draw(int batch, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var choice = randint(0, SubPolicies.Length, [batch], ScalarType.Int64, generator: generator).data<long>().ToArray();
        var uniform = rand([2, batch], ScalarType.Float64, generator: generator).data<double>().ToArray();
        var signs = randint(0, 2, [2, batch], ScalarType.Int64, generator: generator).data<long>().ToArray();
        var subPolicy = choice.Select(c => (int)c).ToArray();
        return new Plan(subPolicy,
            subPolicy.Select((p, i) => uniform[i] < SubPolicies[p].First.Probability).ToArray(),
            subPolicy.Select((p, i) => uniform[batch + i] < SubPolicies[p].Second.Probability).ToArray(),
            signs.Take(batch).Select(s => (int)s * 2 - 1).ToArray(),
            signs.Skip(batch).Select(s => (int)s * 2 - 1).ToArray());
    }

    /// <summary>Draws a plan and applies it to a uint8 [B, C, H, W] batch (C = 1 or 3).</summary>
    public static Tensor Apply(Tensor images, Generator? generator) => Apply(images, Draw((int)images.shape[0], generator));

    /// <summary>
    /// Applies <paramref name="plan"/>: all first halves, then all second halves; each operation runs once per half on
    /// the images that apply it, each image with its own magnitude.
    /// </summary>
    public static Tensor Apply(Tensor images, Plan plan)
    {
        using var scope = NewDisposeScope();
        long height = images.shape[2], width = images.shape[3];
        var result = images;
        foreach (bool first in new[] { true, false })
        {
            var applied = first ? plan.ApplyFirst : plan.ApplySecond;
            var signs = first ? plan.SignFirst : plan.SignSecond;
            var groups = Enumerable.Range(0, plan.SubPolicy.Length).Where(i => applied[i])
                .GroupBy(i => Half(plan.SubPolicy[i], first).Operation);
            foreach (var group in groups)
            {
                var members = group.ToArray();
                var parameters = members.Select(i => Parameter(Half(plan.SubPolicy[i], first), signs[i], height, width)).ToArray();
                var index = tensor(members.Select(i => (long)i).ToArray(), device: images.device);
                var changed = Run(group.Key, result.index_select(0, index), parameters);
                result = result.index_copy(0, index, changed);
            }
        }
        return result.MoveToOuterDisposeScope();
    }

    private static Step Half(int subPolicy, bool first) => first ? SubPolicies[subPolicy].First : SubPolicies[subPolicy].Second;

    /// <summary>
    /// The operation's argument for one image, in the implementation's arithmetic: shear <c>m·sign</c>, translation
    /// <c>m·size·sign</c> pixels, rotation <c>m</c> degrees, enhancement factor <c>1 + m·sign</c>, solarize threshold,
    /// posterize bits.
    /// </summary>
    private static double Parameter(Step step, int sign, long height, long width)
    {
        double m = Magnitude(step.Operation, step.Level);
        return step.Operation switch
        {
            Operation.ShearX or Operation.ShearY => m * sign,
            Operation.TranslateX => m * width * sign,
            Operation.TranslateY => m * height * sign,
            Operation.Color or Operation.Contrast or Operation.Brightness or Operation.Sharpness => 1 + m * sign,
            _ => m,
        };
    }

    /// <summary>Runs one operation on a batch with one argument per image.</summary>
    public static Tensor Run(Operation operation, Tensor images, double[] parameters) => operation switch
    {
        Operation.ShearX => ImageOperations.ShearX(images, parameters),
        Operation.ShearY => ImageOperations.ShearY(images, parameters),
        Operation.TranslateX => ImageOperations.TranslateX(images, parameters),
        Operation.TranslateY => ImageOperations.TranslateY(images, parameters),
        Operation.Rotate => ImageOperations.Rotate(images, parameters),
        Operation.AutoContrast => ImageOperations.AutoContrast(images),
        Operation.Invert => ImageOperations.Invert(images),
        Operation.Equalize => ImageOperations.Equalize(images),
        Operation.Solarize => ImageOperations.Solarize(images, parameters),
        Operation.Posterize => ImageOperations.Posterize(images, parameters),
        Operation.Contrast => ImageOperations.Contrast(images, parameters),
        Operation.Color => ImageOperations.Color(images, parameters),
        Operation.Brightness => ImageOperations.Brightness(images, parameters),
        Operation.Sharpness => ImageOperations.Sharpness(images, parameters),
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown AutoAugment operation"),
    };
}
