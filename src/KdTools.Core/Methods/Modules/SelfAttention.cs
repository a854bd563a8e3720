using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// SAGAN's self-attention layer (Zhang et al., 2019), as the official SKD critic uses it: 1x1 convolutions give queries
/// and keys of C/8 channels and values of C; every position attends to all N = H·W positions
/// (softmax over qᵢ·kⱼ), and the attended values are added back scaled by a learned <c>gamma</c> that starts at 0, so the
/// layer begins as the identity.
/// </summary>
internal sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d query_conv;
    private readonly Conv2d key_conv;
    private readonly Conv2d value_conv;
    private readonly Parameter gamma;

    public SelfAttention(long channels) : base(nameof(SelfAttention))
    {
        if (channels < 8) throw new ArgumentOutOfRangeException(nameof(channels), channels, "self-attention needs at least 8 channels (queries have C/8)");
        query_conv = nn.Conv2d(channels, channels / 8, 1);
        key_conv = nn.Conv2d(channels, channels / 8, 1);
        value_conv = nn.Conv2d(channels, channels, 1);
        gamma = new Parameter(zeros(1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        long batch = input.shape[0], channels = input.shape[1], positions = input.shape[2] * input.shape[3];
        // reshape, not view: the engine feeds channels-last inputs (ChannelsLast), so the 1x1 convolutions' outputs are
        // not contiguous in [B, C, H, W] order.
        var queries = query_conv.call(input).reshape(batch, -1, positions).transpose(1, 2);   // [B, N, C/8]
        var keys = key_conv.call(input).reshape(batch, -1, positions);                         // [B, C/8, N]
        var attention = queries.bmm(keys).softmax(-1);                                      // [B, N, N], row i: where i looks
        var values = value_conv.call(input).reshape(batch, channels, positions);               // [B, C, N]
        var attended = values.bmm(attention.transpose(1, 2)).view(input.shape);
        return gamma * attended + input;
    }
}
