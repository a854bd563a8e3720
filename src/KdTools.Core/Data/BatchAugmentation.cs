using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Turns a uint8 image batch into the normalised floating-point input of a network, after the augmentation a policy asks
/// for (pad and random crop, horizontal flip, AutoAugment, Cutout, in the references' order), all as batched tensor ops.
/// </summary>
internal static class BatchAugmentation
{
    /// <summary>
    /// Scales <paramref name="imagesUint8"/> [B, C, H, W] to [0, 1] and normalises it per channel. When
    /// <paramref name="augment"/> is set, each sample is first zero-padded by <paramref name="padding"/> pixels,
    /// cropped back to H×W at an independent random offset, and mirrored horizontally with probability 0.5.
    /// </summary>
    /// <param name="generator">
    /// Source of the random offsets and flips; when null the global CPU generator is used, which the engine seeds per step.
    /// Draws are always made on the CPU, so the same seed gives the same augmentation on every device.
    /// </param>
    /// <returns>
    /// A [B, C, H, W] tensor on the device of <paramref name="imagesUint8"/>, in libtorch's default floating dtype: float32,
    /// unless a caller switched the default to float64 to run a whole network in double precision (the parity tests).
    /// </returns>
    public static Tensor Prepare(Tensor imagesUint8, float[] mean, float[] std, bool augment, int padding = 4,
        Generator? generator = null) =>
        Prepare(imagesUint8, mean, std, augment ? AugmentationPolicy.Standard with { Padding = padding } : AugmentationPolicy.None, generator);

    /// <summary>Scales and normalises <paramref name="imagesUint8"/> after the augmentation <paramref name="policy"/> asks for.</summary>
    public static Tensor Prepare(Tensor imagesUint8, float[] mean, float[] std, AugmentationPolicy policy, Generator? generator)
    {
        int padding = policy.Padding;
        if (imagesUint8.dtype != ScalarType.Byte || imagesUint8.dim() != 4)
            throw new ArgumentException(
                $"images must be uint8 [B, C, H, W], got {imagesUint8.dtype} {ImageSet.FormatShape(imagesUint8.shape)}");
        var channels = imagesUint8.shape[1];
        if (mean.Length != channels || std.Length != channels)
            throw new ArgumentException($"mean and std need {channels} values, one per channel; got {mean.Length} and {std.Length}");
        if (padding < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be zero or positive");
        if (policy.Cutout < 0)
            throw new ArgumentOutOfRangeException(nameof(policy), policy.Cutout, "the Cutout length must be zero or positive");
        if (policy.AutoAugment && channels is not (1 or 3))
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"AutoAugment's operations are defined for RGB or greyscale images; these have {channels} channels: " +
                "train without AutoAugment", nameof(AugmentationPolicy.AutoAugment));

        using var scope = NewDisposeScope();
        // Each step draws only what it uses, in this order, so a policy without the later steps draws as before them.
        var pixels = padding > 0 || policy.Flip
            ? RandomCropAndFlip(imagesUint8, padding, policy.PaddingMode, policy.Flip, generator)
            : imagesUint8;
        if (policy.AutoAugment) pixels = CifarAutoAugment.Apply(pixels, generator);
        if (policy.Cutout > 0) pixels = Cutout.Apply(pixels, policy.Cutout, generator);
        var device = imagesUint8.device;
        var meanTensor = tensor(mean, device: device).view(1, channels, 1, 1);
        var stdTensor = tensor(std, device: device).view(1, channels, 1, 1);
        var normalised = pixels.to_type(get_default_dtype()).div_(255f).sub_(meanTensor).div_(stdTensor);
        return normalised.MoveToOuterDisposeScope();
    }

    private static Tensor RandomCropAndFlip(Tensor images, int padding, PaddingMode mode, bool flip, Generator? generator)
    {
        var batch = images.shape[0];
        var height = images.shape[2];
        var width = images.shape[3];
        var top = randint(0, 2 * padding + 1, [batch], ScalarType.Int64, generator: generator);
        var left = randint(0, 2 * padding + 1, [batch], ScalarType.Int64, generator: generator);
        var mirror = flip
            ? randint(0, 2, [batch], ScalarType.Int64, generator: generator).to_type(ScalarType.Bool)
            : zeros([batch], ScalarType.Bool);
        var device = images.device;
        return CropWindows(Pad(images, padding, mode), top.to(device), left.to(device), mirror.to(device), height, width);
    }

    /// <summary>Pads every side of a uint8 [B, C, H, W] batch by <paramref name="padding"/> pixels as <paramref name="mode"/> says.</summary>
    internal static Tensor Pad(Tensor images, int padding, PaddingMode mode)
    {
        if (padding == 0) return images;
        long[] sides = [padding, padding, padding, padding];
        return mode switch
        {
            // Reflection padding is not implemented for integer tensors; it only moves values, so a float round trip is exact.
            PaddingMode.Reflect => nn.functional.pad(images.to_type(ScalarType.Float32), sides, PaddingModes.Reflect).to_type(ScalarType.Byte),
            PaddingMode.Gray => nn.functional.pad(images, sides, PaddingModes.Constant, value: 128),
            _ => nn.functional.pad(images, sides, PaddingModes.Zeros),
        };
    }

    /// <summary>
    /// Cuts one <paramref name="height"/>×<paramref name="width"/> window per sample out of <paramref name="images"/>
    /// [B, C, H', W'], at rows <c>top[b]..</c> and columns <c>left[b]..</c>, read right to left where
    /// <paramref name="mirror"/>[b] is set. Two gathers with per-sample index tensors; no per-sample loop.
    /// </summary>
    internal static Tensor CropWindows(Tensor images, Tensor top, Tensor left, Tensor mirror, long height, long width)
    {
        using var scope = NewDisposeScope();
        var batch = images.shape[0];
        var channels = images.shape[1];
        var device = images.device;
        var rowSteps = arange(height, ScalarType.Int64, device);
        var columnSteps = arange(width, ScalarType.Int64, device);
        var rows = top.view(batch, 1) + rowSteps.view(1, height);
        var columnOffsets = where(mirror.view(batch, 1), columnSteps.flip(0).view(1, width), columnSteps.view(1, width));
        var columns = left.view(batch, 1) + columnOffsets;

        var rowIndex = rows.view(batch, 1, height, 1).expand(batch, channels, height, images.shape[3]);
        var selectedRows = images.gather(2, rowIndex);
        var columnIndex = columns.view(batch, 1, 1, width).expand(batch, channels, height, width);
        return selectedRows.gather(3, columnIndex).MoveToOuterDisposeScope();
    }
}
