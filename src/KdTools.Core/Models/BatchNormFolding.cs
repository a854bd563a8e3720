using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Folds eval-mode BatchNorms into the convolutions that feed them, for a network that only ever runs inference (the
/// frozen teacher's private copy, <see cref="Training.FrozenTeacher"/>). In eval mode BN(conv(x)) is an affine map per
/// output channel, so the convolution with weights <c>w·γ/√(var+ε)</c> and bias <c>β + (b − mean)·γ/√(var+ε)</c>
/// computes it alone and the BatchNorm's pass over the activations disappears: exact up to float rounding.
/// <para>
/// Architectures opt in by computing every convolution that a BatchNorm directly follows through <see cref="ConvNorm"/>
/// (or a <see cref="ConvNormSequence"/>); a network that does not is left as it is. TorchSharp's BatchNorm2d is sealed and
/// a module cannot skip its own forward, so the folded state is kept here, keyed by the BatchNorm module.
/// </para>
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>BatchNorms whose affine map their convolution computes now.</summary>
    private static readonly ConditionalWeakTable<BatchNorm2d, Conv2d> Folded = new();

    /// <summary>The conv → BatchNorm pairs a probe pass of <see cref="Fold"/> meets on this thread; null outside one.</summary>
    [ThreadStatic] private static List<(Conv2d Conv, BatchNorm2d Norm)>? t_probed;

    /// <summary><c>norm(conv(input))</c>, or <c>conv(input)</c> once <paramref name="norm"/> is folded into <paramref name="conv"/>.</summary>
    public static Tensor ConvNorm(Conv2d conv, BatchNorm2d norm, Tensor input)
    {
        t_probed?.Add((conv, norm));
        var output = conv.call(input);
        if (Folded.TryGetValue(norm, out _)) return output;
        // The convolution's output is freed as soon as the BatchNorm has read it (autograd keeps its own reference when
        // it needs one), as PyTorch's reference counting frees it, rather than at the end of the pass's dispose scope.
        using (output) return norm.call(output);
    }

    /// <summary>Whether <paramref name="norm"/> is folded into the convolution before it.</summary>
    public static bool IsFolded(BatchNorm2d norm) => Folded.TryGetValue(norm, out _);

    /// <summary>
    /// Folds every conv → BatchNorm pair that one forward pass of <paramref name="network"/> on <paramref name="probe"/>
    /// computes through <see cref="ConvNorm"/>; returns how many it folded. The network must be in eval mode and must
    /// never train or be saved afterwards: its convolutions hold the folded weights and its BatchNorms are skipped.
    /// </summary>
    public static int Fold(ClassifierNet network, Tensor probe)
    {
        if (network.training)
            throw new InvalidOperationException("BatchNorm folding needs a network in eval mode: in train mode BatchNorm uses batch statistics");
        var pairs = new List<(Conv2d Conv, BatchNorm2d Norm)>();
        t_probed = pairs;
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            network.Run(probe);
        }
        finally
        {
            t_probed = null;
        }
        int folded = 0;
        foreach (var (conv, norm) in pairs.Distinct())
        {
            if (IsFolded(norm) || norm.running_mean is null || norm.running_var is null) continue;
            FoldInto(conv, norm);
            Folded.Add(norm, conv);
            folded++;
        }
        return folded;
    }

    private static void FoldInto(Conv2d conv, BatchNorm2d norm)
    {
        using var scope = NewDisposeScope();
        var (weight, bias) = FoldedParameters(conv, norm);
        conv.weight = new Parameter(weight.MoveToOuterDisposeScope(), requires_grad: false);
        conv.bias = new Parameter(bias.MoveToOuterDisposeScope(), requires_grad: false);
    }

    /// <summary>
    /// The weight and bias of a convolution that computes <c>norm(conv(x))</c> alone (eval-mode BatchNorm), in the
    /// convolution's type; new tensors in the caller's dispose scope, <paramref name="conv"/> and <paramref name="norm"/>
    /// untouched. What <see cref="Fold"/> installs, and what the ONNX export writes.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) FoldedParameters(Conv2d conv, BatchNorm2d norm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var dtype = conv.weight!.dtype;
        // float64 for the scale and shift, so the folded weights carry one rounding only.
        var mean = norm.running_mean!.to_type(ScalarType.Float64);
        var scale = (norm.running_var!.to_type(ScalarType.Float64) + norm.eps).rsqrt();
        if (norm.weight is { } gamma) scale = scale * gamma.to_type(ScalarType.Float64);
        var convBias = conv.bias?.to_type(ScalarType.Float64) ?? zeros_like(mean);
        var shift = (convBias - mean) * scale;
        if (norm.bias is { } beta) shift = shift + beta.to_type(ScalarType.Float64);
        var shape = new long[conv.weight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var weight = (conv.weight.to_type(ScalarType.Float64) * scale.view(shape)).to_type(dtype);
        return (weight.MoveToOuterDisposeScope(), shift.to_type(dtype).MoveToOuterDisposeScope());
    }
}
