using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// The standard CIFAR augmentation on whole batches as tensor ops: zero-pad, random crop back to size (independent
/// offsets per sample), random horizontal flip, then scale to [0, 1] and normalise per channel.
/// </summary>
public static class BatchAugmentation
{
    /// <summary>uint8 [B, C, H, W] → normalised float32 [B, C, H, W]; random draws from <paramref name="generator"/> or the global RNG.</summary>
    public static Tensor Prepare(Tensor images, float[] mean, float[] std, bool augment, int padding = 4, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        var x = images.to_type(ScalarType.Float32).div_(255f);
        if (augment)
        {
            if (padding > 0) x = RandomCrop(x, padding, generator);
            x = RandomFlip(x, generator);
        }
        var m = torch.tensor(mean, device: x.device).view(1, -1, 1, 1);
        var s = torch.tensor(std, device: x.device).view(1, -1, 1, 1);
        return x.sub_(m).div_(s).MoveToOuterDisposeScope();
    }

    private static Tensor RandomCrop(Tensor x, int padding, Generator? generator)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var padded = nn.functional.pad(x, [padding, padding, padding, padding]);
        var dy = torch.randint(0, 2 * padding + 1, [b], generator: generator, dtype: ScalarType.Int64, device: x.device);
        var dx = torch.randint(0, 2 * padding + 1, [b], generator: generator, dtype: ScalarType.Int64, device: x.device);
        // Row and column indices per sample, gathered in two passes: [B, C, H, W+2p] then [B, C, H, W].
        var rows = (dy.view(b, 1) + torch.arange(h, device: x.device)).view(b, 1, h, 1).expand(b, c, h, w + 2 * padding);
        var cropped = padded.gather(2, rows);
        var cols = (dx.view(b, 1) + torch.arange(w, device: x.device)).view(b, 1, 1, w).expand(b, c, h, w);
        return cropped.gather(3, cols);
    }

    private static Tensor RandomFlip(Tensor x, Generator? generator)
    {
        var flip = torch.rand([x.shape[0]], generator: generator, device: x.device).lt(0.5).view(-1, 1, 1, 1);
        return torch.where(flip, x.flip(3), x);
    }
}
