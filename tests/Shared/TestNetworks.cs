using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Testing;

/// <summary>
/// Networks with reproducible, non-trivial weights for checks that compare two computations of one network (ONNX
/// export against TorchSharp, KdTools against a PyTorch formulation). Linked into the test project and the benchmark
/// (<c>&lt;Compile Include="../../tests/Shared/*.cs" Link="Shared/…"/&gt;</c>), so both build the same networks.
/// </summary>
internal static class TestNetworks
{
    /// <summary>
    /// An eval-mode network whose BatchNorms are far from the identity (random affine shifts and running statistics
    /// from a fixed generator), with an input size and a normalisation, as a trained network would carry.
    /// </summary>
    public static ClassifierNet TrainedLooking(string architecture, int classes, int side)
    {
        var network = ArchitectureRegistry.Create(architecture, classes, seed: 1);
        var random = new Generator(2);
        using (no_grad())
            foreach (var (key, value) in network.state_dict())
            {
                if (key.EndsWith("running_mean") || (key.EndsWith(".bias") && value.dim() == 1)) value.copy_(randn(value.shape, generator: random) * 0.2);
                else if (key.EndsWith("running_var")) value.copy_(rand(value.shape, generator: random) + 0.5);
            }
        network.eval();
        network.InputSize = new ImageSize(side, side);
        network.Normalization = new InputNormalization([0.5f, 0.25f, 0.125f], [0.5f, 0.5f, 0.25f]);
        return network;
    }

    /// <summary>
    /// Weights any language can rebuild from the state dict's keys alone: tensor j, in ordinal key order, gets
    /// sin(0.7·i + 1.3·j) at flat index i, scaled by 1/sqrt(fan-in) for weights of two or more dimensions, 0.1 for
    /// one-dimensional tensors (1 + 0.1·sin for those whose key ends in <c>weight</c>), and 1 + 0.25·(1 + sin) for
    /// running variances. PyTorch's side is <c>fill_deterministically</c> in tests/KdTools.Core.Tests/Models/Reference/
    /// segmentation_models.py and bench/pytorch/bench_torch.py.
    /// </summary>
    public static void FillDeterministically(nn.Module model)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var state = model.state_dict();
        var keys = state.Keys.Order(StringComparer.Ordinal).ToList();
        for (int j = 0; j < keys.Count; j++)
        {
            var key = keys[j];
            var tensor = state[key];
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            var wave = sin(arange(tensor.numel(), ScalarType.Float64).mul(0.7).add(1.3 * j)).view(tensor.shape);
            var value = key.EndsWith("running_var", StringComparison.Ordinal) ? wave.add(1).mul(0.25).add(1)
                : tensor.dim() == 1 && key.EndsWith("weight", StringComparison.Ordinal) ? wave.mul(0.1).add(1)
                : tensor.dim() == 1 ? wave.mul(0.1)
                : wave.div(Math.Sqrt(tensor[0].numel()));
            tensor.copy_(value.to(tensor.dtype));
        }
    }

    /// <summary>sin(0.3·i) over the flat index, as float32: the input both sides feed identically filled networks.</summary>
    public static Tensor ParityInput(long[] shape) =>
        sin(arange(shape.Aggregate(1L, (a, b) => a * b), ScalarType.Float64).mul(0.3)).view(shape).to(ScalarType.Float32);
}
