using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>Per-channel mean and standard deviation of uint8 images, in [0, 1] units (what normalisation expects).</summary>
internal static class ChannelStatistics
{
    // Bounds the float64 copy to a few tens of MB however large the split is.
    private const long ImagesPerChunk = 1024;

    public static (float[] Mean, float[] Std) Compute(Tensor imagesUint8)
    {
        using var scope = NewDisposeScope();
        var count = imagesUint8.shape[0];
        var channels = imagesUint8.shape[1];
        var sum = zeros(channels, ScalarType.Float64);
        var sumOfSquares = zeros(channels, ScalarType.Float64);
        for (long start = 0; start < count; start += ImagesPerChunk)
        {
            var chunk = imagesUint8.narrow(0, start, Math.Min(ImagesPerChunk, count - start)).to_type(ScalarType.Float64).div_(255.0);
            sum.add_(chunk.sum([0, 2, 3]));
            sumOfSquares.add_(chunk.square().sum([0, 2, 3]));
        }

        var valuesPerChannel = (double)(count * imagesUint8.shape[2] * imagesUint8.shape[3]);
        var mean = sum / valuesPerChannel;
        var variance = (sumOfSquares / valuesPerChannel - mean.square()).clamp_min(0);
        return (ToFloats(mean), ToFloats(variance.sqrt()));
    }

    private static float[] ToFloats(Tensor values) => values.to_type(ScalarType.Float32).data<float>().ToArray();
}
