using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>ShuffleNet's channel shuffle: [N, g·c, H, W] → [N, g, c, H, W] → [N, c, g, H, W] → [N, g·c, H, W].</summary>
internal static class ChannelShuffle
{
    public static Tensor Apply(Tensor input, long groups)
    {
        if (groups == 1) return input;
        long n = input.shape[0], channels = input.shape[1], height = input.shape[2], width = input.shape[3];
        return input.reshape(n, groups, channels / groups, height, width).transpose(1, 2).reshape(n, channels, height, width);
    }
}
