using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// ShuffleNet's channel shuffle: [N, g·c, H, W] → [N, g, c, H, W] → [N, c, g, H, W] → [N, g·c, H, W], so output
/// channel k·g + j is input channel j·c + k. The values are the reference's; the memory layout follows the input's: the
/// reference's reshape of the transposed view copies into a contiguous NCHW tensor, which on a channels-last input
/// turned every later convolution, BatchNorm and ReLU of a ShuffleNet back to NCHW (and made oneDNN reorder its
/// inputs). Here a channels-last input gives a channels-last output, with the same single copy.
/// </summary>
internal static class ChannelShuffle
{
    public static Tensor Apply(Tensor input, long groups)
    {
        if (groups == 1) return input;
        long n = input.shape[0], channels = input.shape[1], height = input.shape[2], width = input.shape[3];
        if (ChannelsLast.Is(input))
            // Each pixel's channel vector [g, c] transposed to [c, g]: the copy is laid out N, H, W, C.
            return input.permute(0, 2, 3, 1).reshape(n, height, width, groups, channels / groups).transpose(3, 4)
                .reshape(n, height, width, channels).permute(0, 3, 1, 2);
        return input.reshape(n, groups, channels / groups, height, width).transpose(1, 2).reshape(n, channels, height, width);
    }

    /// <summary>
    /// The shuffle in two groups of the concatenation of <paramref name="first"/> and <paramref name="second"/> (equal
    /// widths), <c>Apply(cat([first, second], 1), 2)</c>, in one copy instead of two: output channel 2k is
    /// <paramref name="first"/>'s channel k, 2k + 1 is <paramref name="second"/>'s. Channels-last when <paramref name="first"/> is.
    /// </summary>
    public static Tensor ConcatenateShuffled(Tensor first, Tensor second)
    {
        long n = first.shape[0], channels = first.shape[1] + second.shape[1], height = first.shape[2], width = first.shape[3];
        if (ChannelsLast.Is(first))
            return stack([first.permute(0, 2, 3, 1), second.permute(0, 2, 3, 1)], 4)
                .reshape(n, height, width, channels).permute(0, 3, 1, 2);
        return stack([first, second], 2).reshape(n, channels, height, width);
    }
}
