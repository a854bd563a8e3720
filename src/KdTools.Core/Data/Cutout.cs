using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Cutout (DeVries &amp; Taylor 2017) as the TOFD and BYOT authors' <c>Cutout(n_holes=1, length=16)</c> applies it
/// after <c>ToTensor</c>: per image a centre (y, x) drawn uniformly over the pixels, rows
/// <c>clip(y − L/2, 0, H) .. clip(y + L/2, 0, H)</c> (end excluded, integer halves) and the same columns set to 0 in
/// every channel. Zero in [0, 1] units is uint8 0, so the hole is cut before normalisation here as there.
/// </summary>
internal static class Cutout
{
    /// <summary>Cuts one hole of side <paramref name="length"/> into each image of a uint8 [B, C, H, W] batch.</summary>
    public static Tensor Apply(Tensor images, int length, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long batch = images.shape[0], height = images.shape[2], width = images.shape[3];
        var centreRow = randint(0, height, [batch], ScalarType.Int64, generator: generator).to(images.device);
        var centreColumn = randint(0, width, [batch], ScalarType.Int64, generator: generator).to(images.device);
        var rows = Span(centreRow, height, length);
        var columns = Span(centreColumn, width, length);
        var hole = rows.view(batch, 1, height, 1).logical_and(columns.view(batch, 1, 1, width));
        return images.masked_fill(hole, 0).MoveToOuterDisposeScope();
    }

    /// <summary>[B, size] mask of the positions <c>clip(c − L/2) ≤ i &lt; clip(c + L/2)</c> around each centre c.</summary>
    private static Tensor Span(Tensor centre, long size, int length)
    {
        var positions = arange(size, ScalarType.Int64, centre.device).view(1, size);
        var first = (centre - length / 2).clamp(0, size).view(-1, 1);
        var end = (centre + length / 2).clamp(0, size).view(-1, 1);
        return positions.ge(first).logical_and(positions.lt(end));
    }
}
