using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// A 2-D convolution whose weight is divided by its largest singular value (Miyato et al., 2018), estimated by power
/// iteration on the weight viewed as [out, in·k·k], as SAGAN's and the official SKD code's SpectralNorm wrapper does
/// (TorchSharp has no <c>spectral_norm</c>). In training mode every forward pass first refines the singular vectors
/// <c>weight_u</c> and <c>weight_v</c> (buffers, so checkpoints carry them and a resumed run continues exactly); σ = uᵀWv
/// then carries the gradient through W only. Evaluation reuses the stored vectors. State keys follow PyTorch's
/// <c>torch.nn.utils.spectral_norm</c>: <c>weight_orig</c>, <c>weight_u</c>, <c>weight_v</c>, <c>bias</c>.
/// </summary>
internal sealed class SpectralNormConv2d : nn.Module<Tensor, Tensor>
{
    /// <summary>Keeps a normalisation finite for an all-zero vector, as the reference's l2normalize.</summary>
    private const double Epsilon = 1e-12;

    private readonly Parameter weight_orig;
    private readonly Parameter? bias;
    private readonly Tensor weight_u;
    private readonly Tensor weight_v;
    private readonly long _stride, _padding;
    private readonly int _powerIterations;

    public SpectralNormConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
        bool hasBias = true, int powerIterations = 1) : base(nameof(SpectralNormConv2d))
    {
        if (powerIterations < 1) throw new ArgumentOutOfRangeException(nameof(powerIterations), powerIterations, "at least one power iteration");
        // PyTorch's default convolution initialisation, then random unit singular-vector estimates.
        using (var conv = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: hasBias))
        {
            weight_orig = new Parameter(conv.weight!.detach().clone());
            bias = hasBias ? new Parameter(conv.bias!.detach().clone()) : null;
        }
        weight_u = Normalize(randn(outChannels));
        weight_v = Normalize(randn(inChannels * kernelSize * kernelSize));
        _stride = stride;
        _padding = padding;
        _powerIterations = powerIterations;
        RegisterComponents();
    }

    /// <summary>The normalised weight W/σ the convolution uses (σ from the current singular vectors, no update).</summary>
    public Tensor NormalizedWeight() => weight_orig / Sigma();

    public override Tensor forward(Tensor input)
    {
        if (training) RefineSingularVectors();
        return nn.functional.conv2d(input, weight_orig / Sigma(), bias, strides: [_stride, _stride], padding: [_padding, _padding]);
    }

    /// <summary>v ← normalize(Wᵀu), u ← normalize(Wv), without a gradient.</summary>
    private void RefineSingularVectors()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var matrix = weight_orig.view(weight_orig.shape[0], -1);
        for (int i = 0; i < _powerIterations; i++)
        {
            weight_v.copy_(Normalize(matrix.t().mv(weight_u)));
            weight_u.copy_(Normalize(matrix.mv(weight_v)));
        }
    }

    /// <summary>
    /// σ = uᵀWv with u and v constants, so the gradient reaches W only. It reads copies of the vectors, as PyTorch's
    /// spectral_norm does: a later forward pass (the critic runs three times a step) refines them in place, which must
    /// not change what an earlier pass's backward uses.
    /// </summary>
    private Tensor Sigma() => weight_u.clone().dot(weight_orig.view(weight_orig.shape[0], -1).mv(weight_v.clone()));

    private static Tensor Normalize(Tensor vector) => vector / (vector.norm() + Epsilon);
}
