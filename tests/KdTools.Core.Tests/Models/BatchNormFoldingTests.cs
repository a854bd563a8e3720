using KdTools.Core.Data;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Models;

/// <summary>
/// The frozen teacher's folded copy computes what the unfolded network computes (logits and every feature, eval mode),
/// folds every BatchNorm that follows a convolution, and leaves the caller's network untouched.
/// </summary>
public class BatchNormFoldingTests
{
    // BatchNorms that directly follow a convolution: resnet8: stem, 2 per block, 2 projections; resnet18: stem,
    // 8 blocks × 2, 3 projections; vgg8: one per conv; wrn_16_2: bn2 of each of its 6 blocks (the others precede a conv).
    [Theory]
    [InlineData("resnet8", 9)]
    [InlineData("resnet18", 20)]
    [InlineData("resnet50", 53)]
    [InlineData("vgg8", 5)]
    [InlineData("wrn_16_2", 6)]
    public void Folded_copy_gives_the_networks_outputs_in_float32_and_float64(string architecture, int foldable)
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            using var teacher = TrainedLooking(architecture, dtype);
            using var frozen = FrozenTeacher.Create(teacher, 3, 16, 16, CPU);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = randn([4, 3, 16, 16], dtype, generator: new Generator(5));

            var expected = teacher.Run(input);
            var folded = frozen.Network.Run(input);

            Assert.Equal(foldable, frozen.FoldedNorms);
            Assert.NotSame(teacher, frozen.Network);
            double tolerance = dtype == ScalarType.Float32 ? 1e-4 : 1e-10;
            AssertClose(expected.Logits, folded.Logits, tolerance, $"{architecture} {dtype} logits");
            Assert.Equal(expected.Features.Keys, folded.Features.Keys);
            foreach (var (name, feature) in expected.Features)
                AssertClose(feature, folded.Feature(name), tolerance, $"{architecture} {dtype} {name}");
        }
    }

    [Fact]
    public void The_callers_network_keeps_its_weights_and_statistics()
    {
        using var teacher = TrainedLooking("resnet8", ScalarType.Float32);
        var before = teacher.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using (var frozen = FrozenTeacher.Create(teacher, 3, 16, 16, CPU))
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            frozen.Network.Run(randn(2, 3, 16, 16));
        }

        var after = teacher.state_dict();
        Assert.Equal(before.Keys, after.Keys);
        foreach (var (key, value) in before) Assert.True(value.equal(after[key]).all().item<bool>(), $"{key} changed");
        using var scope2 = NewDisposeScope();
        using var noGrad2 = no_grad();
        // Its BatchNorms still run: a changed running mean changes its output.
        var input = randn(2, 3, 16, 16);
        var output = teacher.Run(input).Logits.clone();
        foreach (var (key, value) in after.Where(kv => kv.Key.EndsWith("running_mean"))) value.add_(1);
        Assert.False(output.allclose(teacher.Run(input).Logits));
    }

    /// <summary>An eval-mode network whose BatchNorms are far from the identity: random affine and running statistics.</summary>
    private static ClassifierNet TrainedLooking(string architecture, ScalarType dtype)
    {
        var network = ArchitectureRegistry.Create(architecture, 10, seed: 1);
        network.to(dtype);
        var random = new Generator(2);
        using (no_grad())
            foreach (var (key, value) in network.state_dict())
            {
                if (key.EndsWith("running_mean") || key.EndsWith(".bias")) value.copy_(randn(value.shape, dtype, generator: random) * 0.5);
                else if (key.EndsWith("running_var")) value.copy_(rand(value.shape, dtype, generator: random) + 0.5);
                else if (value.dim() == 1 && value.is_floating_point()) value.copy_(rand(value.shape, dtype, generator: random) + 0.5);
            }
        network.eval();
        return network;
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        double scale = Math.Max(1e-6, expected.abs().max().ToDouble());
        double error = (expected - actual).abs().max().ToDouble() / scale;
        Assert.True(error <= tolerance, $"{what}: relative error {error:G3} > {tolerance:G3}");
    }
}
