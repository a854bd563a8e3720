using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// ReviewKD's attention-based fusion (ABF, Chen et al. 2021), one per level: a 1×1 conv + BN brings the student feature
/// to the middle width; below the deepest level it is fused with the residual passed down from the deeper level
/// (upsampled, nearest) through two sigmoid attention maps; then it is resized (nearest) to the teacher's map and a
/// 3×3 conv + BN gives the teacher's width. Returns that output and the fused middle-width map for the next level.
/// Attribute names and initialisation follow mdistiller's <c>ABF</c>.
/// </summary>
internal sealed class AttentionFusion : nn.Module<Tensor, Tensor?, (Tensor Output, Tensor Residual)>
{
    private readonly Sequential conv1;
    private readonly Sequential conv2;
    private readonly Sequential? att_conv;
    private readonly long[] _outputSize;

    /// <param name="inChannels">Student channels at this level.</param>
    /// <param name="midChannels">Width of the fused maps.</param>
    /// <param name="outChannels">Teacher channels at this level.</param>
    /// <param name="outputSize">The teacher map's height and width.</param>
    /// <param name="fuse">False for the deepest level, which has no residual to fuse.</param>
    public AttentionFusion(long inChannels, long midChannels, long outChannels, long[] outputSize, bool fuse) : base(nameof(AttentionFusion))
    {
        var reduce = nn.Conv2d(inChannels, midChannels, 1, bias: false);
        var expand = nn.Conv2d(midChannels, outChannels, 3, padding: 1, bias: false);
        nn.init.kaiming_uniform_(reduce.weight, a: 1);
        nn.init.kaiming_uniform_(expand.weight, a: 1);
        conv1 = nn.Sequential(reduce, nn.BatchNorm2d(midChannels));
        conv2 = nn.Sequential(expand, nn.BatchNorm2d(outChannels));
        att_conv = fuse ? nn.Sequential(nn.Conv2d(midChannels * 2, 2, 1), nn.Sigmoid()) : null;
        _outputSize = outputSize;
        RegisterComponents();
    }

    /// <param name="input">[B, C_in, H, W] student feature.</param>
    /// <param name="residual">The deeper level's fused map, [B, mid, h, w]; null at the deepest level.</param>
    public override (Tensor Output, Tensor Residual) forward(Tensor input, Tensor? residual)
    {
        var x = conv1.call(input);
        if (att_conv is not null)
        {
            if (residual is null) throw new ArgumentNullException(nameof(residual), "a fusing level needs the deeper level's residual");
            var size = new[] { x.shape[2], x.shape[3] };
            var upsampled = nn.functional.interpolate(residual, size, mode: InterpolationMode.Nearest);
            var attention = att_conv.call(cat([x, upsampled], 1));
            x = x * attention.narrow(1, 0, 1) + upsampled * attention.narrow(1, 1, 1);
        }
        if (x.shape[2] != _outputSize[0] || x.shape[3] != _outputSize[1])
            x = nn.functional.interpolate(x, _outputSize, mode: InterpolationMode.Nearest);
        return (conv2.call(x), x);
    }
}
