using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// The cost of the training-time augmentations on one uint8 batch of 64×3×32×32 (the batch option's size): each
/// AutoAugment operation applied to every image (mid-range magnitudes, alternating signs), the whole CIFAR-10 policy
/// (draw and apply), Cutout 16, and the standard crop + flip for scale.
/// </summary>
internal static class AugmentationBenchmark
{
    public static IEnumerable<Dictionary<string, object>> Run(BenchOptions options)
    {
        using var generator = new Generator(7);
        using var images = randint(0, 256, [options.BatchSize, 3, 32, 32], ScalarType.Int64, generator: generator).to_type(ScalarType.Byte);
        var cases = new List<(string Name, Action Step)>
        {
            ("crop4_flip", () => CropFlip(images, generator)),
            ("cutout16", () => Cutout.Apply(images, 16, generator)),
            ("autoaugment_policy", () => CifarAutoAugment.Apply(images, generator)),
        };
        foreach (var operation in Enum.GetValues<CifarAutoAugment.Operation>())
        {
            var arguments = Enumerable.Range(0, options.BatchSize).Select(i => Argument(operation, i)).ToArray();
            cases.Add((operation.ToString(), () => CifarAutoAugment.Run(operation, images, arguments)));
        }
        foreach (var (name, step) in cases)
        {
            var timing = Timing.Of(options.Warmup, options.Iterations, () =>
            {
                using var scope = NewDisposeScope();
                step();
            });
            var record = new Dictionary<string, object> { ["framework"] = "kdtools", ["augmentation"] = name, ["batch"] = options.BatchSize };
            timing.AddMs(record, "batch");
            yield return record;
        }
    }

    /// <summary>Prepare with the standard policy: crop and flip, and the scaling and normalisation every step pays.</summary>
    private static void CropFlip(Tensor images, Generator generator) =>
        BatchAugmentation.Prepare(images, [0f, 0f, 0f], [1f, 1f, 1f], AugmentationPolicy.Standard, generator);

    /// <summary>Level 5 of the policy's range, sign alternating over the batch.</summary>
    private static double Argument(CifarAutoAugment.Operation operation, int image)
    {
        double m = CifarAutoAugment.Magnitude(operation, 5);
        int sign = image % 2 == 0 ? 1 : -1;
        return operation switch
        {
            CifarAutoAugment.Operation.ShearX or CifarAutoAugment.Operation.ShearY => m * sign,
            CifarAutoAugment.Operation.TranslateX or CifarAutoAugment.Operation.TranslateY => m * 32 * sign,
            CifarAutoAugment.Operation.Color or CifarAutoAugment.Operation.Contrast or CifarAutoAugment.Operation.Brightness
                or CifarAutoAugment.Operation.Sharpness => 1 + m * sign,
            _ => m,
        };
    }
}
