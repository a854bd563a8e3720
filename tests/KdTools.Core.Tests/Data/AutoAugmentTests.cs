using System.Text.Json;
using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;
using Operation = KdTools.Core.Data.CifarAutoAugment.Operation;

namespace KdTools.Core.Tests.Data;

/// <summary>
/// AutoAugment's operations against PIL, pixel for pixel, on the small images of <c>Fixtures/pil_reference.json</c>
/// (written by <c>Fixtures/make_pil_reference.py</c> with Pillow 9.4: 8×10 and 7×9 images at every magnitude level,
/// and 32×32 ones for the operations whose result depends on the size), and the CIFAR-10 policy's draws.
/// </summary>
public class AutoAugmentTests
{
    private static readonly Lazy<JsonDocument> Reference = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures", "pil_reference.json"))));

    private static Tensor Decode(JsonElement base64, JsonElement shape) =>
        tensor(Convert.FromBase64String(base64.GetString()!), shape.EnumerateArray().Select(d => d.GetInt64()).ToArray());

    public static IEnumerable<object[]> Operations() => Enum.GetNames<Operation>().Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(Operations))]
    public void Operation_equals_PIL_on_every_image_and_parameter(string name)
    {
        var operation = Enum.Parse<Operation>(name);
        var sets = Reference.Value.RootElement.GetProperty("sets").EnumerateArray()
            .Select(set => (Set: set, Case: set.GetProperty("cases").EnumerateArray()
                .SingleOrDefault(c => c.GetProperty("op").GetString() == name)))
            .Where(s => s.Case.ValueKind != JsonValueKind.Undefined).ToList();
        Assert.NotEmpty(sets);
        foreach (var (set, reference) in sets)
        {
            using var scope = NewDisposeScope();
            var shape = set.GetProperty("shape");
            var images = Decode(set.GetProperty("images"), shape);
            var parameters = reference.GetProperty("parameters").EnumerateArray()
                .Select(p => p.ValueKind == JsonValueKind.Null ? 0 : p.GetDouble()).ToArray();
            var expected = Decode(reference.GetProperty("expected"), shape);

            var actual = CifarAutoAugment.Run(operation, images, parameters);

            Assert.Equal(ScalarType.Byte, actual.dtype);
            var differing = actual.ne(expected);
            long count = differing.sum().ToInt64();
            Assert.True(count == 0, $"{name} on {string.Join("×", images.shape)}: {count} values differ from PIL, " +
                $"in images {string.Join(",", differing.flatten(1).any(1).nonzero().flatten().data<long>().ToArray())}, " +
                $"by at most {(actual.to_type(ScalarType.Int32) - expected.to_type(ScalarType.Int32)).abs().max().ToInt32()}");
        }
    }

    [Fact]
    public void Magnitude_levels_are_numpys_linspace_values()
    {
        foreach (var range in Reference.Value.RootElement.GetProperty("ranges").EnumerateObject())
        {
            var operation = Enum.Parse<Operation>(range.Name);
            var expected = range.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(expected, Enumerable.Range(0, 10).Select(level => CifarAutoAugment.Magnitude(operation, level)));
        }
    }

    [Fact]
    public void Reflect_padding_equals_numpys_and_torchs_reflect_mode_as_torchvision_uses_them()
    {
        using var scope = NewDisposeScope();
        var reflect = Reference.Value.RootElement.GetProperty("reflect");
        var shape = reflect.GetProperty("shape");
        var image = Decode(reflect.GetProperty("image"), shape);
        int padding = reflect.GetProperty("padding").GetInt32();
        var padded = Decode(reflect.GetProperty("padded"), JsonDocument.Parse("[1, 3, 14, 15]").RootElement);

        Assert.True(TensorCompare.Identical(padded, BatchAugmentation.Pad(image, padding, PaddingMode.Reflect)));

        // RandomCrop(…, padding=4, padding_mode='reflect') then crops a window of the padded image at a random offset.
        using var generator = new Generator(3);
        var policy = AugmentationPolicy.None with { Padding = padding, PaddingMode = PaddingMode.Reflect };
        for (int draw = 0; draw < 8; draw++)
        {
            var cropped = BatchAugmentation.Prepare(image, [0f, 0f, 0f], [1f, 1f, 1f], policy, generator).mul(255f).round().to_type(ScalarType.Byte);
            bool isWindow = Enumerable.Range(0, 2 * padding + 1).Any(top => Enumerable.Range(0, 2 * padding + 1).Any(left =>
                TensorCompare.Identical(cropped, padded.narrow(2, top, 6).narrow(3, left, 7))));
            Assert.True(isWindow, "a reflect-padded crop must be a window of the reflect-padded image");
        }
    }

    [Fact]
    public void Grey_padding_fills_the_border_with_128()
    {
        using var scope = NewDisposeScope();
        var padded = BatchAugmentation.Pad(full([2, 3, 4, 5], 7, ScalarType.Byte), 2, PaddingMode.Gray);
        Assert.Equal(new long[] { 2, 3, 8, 9 }, padded.shape);
        Assert.Equal(2L * 3 * (8 * 9 - 4 * 5), padded.eq(128).sum().ToInt64());
        Assert.True(padded.narrow(2, 2, 4).narrow(3, 2, 5).eq(7).all().ToBoolean());
    }

    [Fact]
    public void Each_sub_policy_is_drawn_uniformly_and_applies_each_half_with_its_probability()
    {
        const int draws = 100_000;
        using var generator = new Generator(17);
        var plan = CifarAutoAugment.Draw(draws, generator);
        int policies = CifarAutoAugment.SubPolicies.Length;
        Assert.Equal(25, policies);

        double expectedCount = (double)draws / policies, countSd = Math.Sqrt(draws * (1.0 / policies) * (1 - 1.0 / policies));
        for (int p = 0; p < policies; p++)
        {
            var members = Enumerable.Range(0, draws).Where(i => plan.SubPolicy[i] == p).ToArray();
            Assert.InRange(members.Length, expectedCount - 5 * countSd, expectedCount + 5 * countSd);
            var (first, second) = (CifarAutoAugment.SubPolicies[p].First.Probability, CifarAutoAugment.SubPolicies[p].Second.Probability);
            AssertRate(members.Count(i => plan.ApplyFirst[i]), members.Length, first, $"sub-policy {p} first half");
            AssertRate(members.Count(i => plan.ApplySecond[i]), members.Length, second, $"sub-policy {p} second half");
        }
        AssertRate(plan.SignFirst.Count(s => s == 1), draws, 0.5, "first signs");
        AssertRate(plan.SignSecond.Count(s => s == 1), draws, 0.5, "second signs");
        Assert.All(plan.SignFirst.Concat(plan.SignSecond), s => Assert.True(s is 1 or -1));
        // Sub-policy 14's second half (invert) has probability 0: never applied.
        Assert.DoesNotContain(Enumerable.Range(0, draws), i => plan.SubPolicy[i] == 14 && plan.ApplySecond[i]);
    }

    private static void AssertRate(int hits, int trials, double probability, string what)
    {
        double sd = Math.Sqrt(probability * (1 - probability) / trials);
        Assert.True(Math.Abs((double)hits / trials - probability) <= 5 * sd + 1e-12,
            $"{what}: {hits}/{trials} = {(double)hits / trials:F4}, expected {probability}");
    }

    [Fact]
    public void A_plan_applies_each_images_sub_policy_in_order_with_its_own_magnitudes_and_signs()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        const int batch = 48;
        var images = randint(0, 256, [batch, 3, 9, 11], ScalarType.Int64, generator: generator).to_type(ScalarType.Byte);
        var plan = CifarAutoAugment.Draw(batch, generator);
        Assert.Contains(plan.ApplyFirst, a => a);
        Assert.Contains(plan.ApplySecond, a => a);

        var batched = CifarAutoAugment.Apply(images, plan);

        for (int i = 0; i < batch; i++)
        {
            var expected = images.narrow(0, i, 1);
            var subPolicy = CifarAutoAugment.SubPolicies[plan.SubPolicy[i]];
            if (plan.ApplyFirst[i]) expected = RunOne(subPolicy.First, plan.SignFirst[i], expected);
            if (plan.ApplySecond[i]) expected = RunOne(subPolicy.Second, plan.SignSecond[i], expected);
            Assert.True(TensorCompare.Identical(expected, batched.narrow(0, i, 1)), $"image {i} (sub-policy {plan.SubPolicy[i]})");
        }
    }

    /// <summary>One operation on one image, with the argument the implementation computes from level and sign.</summary>
    private static Tensor RunOne(CifarAutoAugment.Step step, int sign, Tensor image)
    {
        double m = CifarAutoAugment.Magnitude(step.Operation, step.Level);
        double argument = step.Operation switch
        {
            Operation.ShearX or Operation.ShearY => m * sign,
            Operation.TranslateX => m * image.shape[3] * sign,
            Operation.TranslateY => m * image.shape[2] * sign,
            Operation.Color or Operation.Contrast or Operation.Brightness or Operation.Sharpness => 1 + m * sign,
            _ => m,
        };
        return CifarAutoAugment.Run(step.Operation, image, [argument]);
    }

    [Fact]
    public void Greyscale_images_are_augmented_as_PIL_L_images()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(9);
        var grey = randint(0, 256, [16, 1, 8, 8], ScalarType.Int64, generator: generator).to_type(ScalarType.Byte);
        // On a grey image PIL's colour enhancement blends the image with itself.
        Assert.True(TensorCompare.Identical(grey, ImageOperations.Color(grey, Enumerable.Repeat(1.9, 16).ToArray())));
        var augmented = CifarAutoAugment.Apply(grey, generator);
        Assert.Equal(grey.shape, augmented.shape);
    }
}
