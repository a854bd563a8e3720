using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>Per-channel mean and standard deviation of uint8 images, in [0, 1] units (what normalisation expects).</summary>
internal static class ChannelStatistics
{
    // Bounds the float64 copy to a few tens of MB however large the split is.
    private const int ImagesPerChunk = 1024;

    /// <summary>The statistics of a split's images, in memory or streamed (read in the same chunks, so both give the same bits).</summary>
    public static (float[] Mean, float[] Std) Compute(ImageSet set)
    {
        using var scope = NewDisposeScope();
        var sum = zeros(set.Channels, ScalarType.Float64);
        var sumOfSquares = zeros(set.Channels, ScalarType.Float64);
        foreach (var images in set.Chunks(ImagesPerChunk))
        {
            using (images) // a view in memory, a new tensor when streamed: either way done with after this chunk
            using (var chunkScope = NewDisposeScope())
            {
                var chunk = images.to_type(ScalarType.Float64).div_(255.0);
                sum.add_(chunk.sum([0, 2, 3]));
                sumOfSquares.add_(chunk.square().sum([0, 2, 3]));
            }
        }

        var valuesPerChannel = (double)((long)set.Count * set.Height * set.Width);
        var mean = sum / valuesPerChannel;
        var variance = (sumOfSquares / valuesPerChannel - mean.square()).clamp_min(0);
        return (ToFloats(mean), ToFloats(variance.sqrt()));
    }

    private static float[] ToFloats(Tensor values) => values.to_type(ScalarType.Float32).data<float>().ToArray();
}
