using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Dropout whose mask comes from an explicit generator (the training step's), never from libtorch's global one, so
/// runs in parallel stay reproducible and a resumed run continues bit-identically.
/// </summary>
internal static class SeededDropout
{
    /// <summary>
    /// In training with a generator: zeroes each element of <paramref name="input"/> (with <paramref name="wholeChannels"/>,
    /// each channel map of each sample, as Dropout2d) with probability <paramref name="probability"/> and scales the rest by
    /// 1/(1 − p). Otherwise the input unchanged. The mask is drawn on the CPU, so a seed drops the same units on every device.
    /// </summary>
    public static Tensor Apply(Tensor input, double probability, bool wholeChannels, bool training, Generator? random)
    {
        if (!training || random is null || probability == 0) return input;
        long[] shape = wholeChannels ? [input.shape[0], input.shape[1], 1, 1] : input.shape;
        var keep = rand(shape, generator: random).ge_(probability).to(input.dtype).to(input.device);
        return input * keep.div_(1 - probability);
    }
}
