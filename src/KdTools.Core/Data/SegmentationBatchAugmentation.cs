using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// Turns a uint8 segmentation batch into a network's input and targets: normalised float32 images and int64 label maps,
/// optionally augmented by <see cref="SegmentationAugmentationPolicy"/> as batched tensor ops (one bilinear
/// <c>grid_sample</c> for the images, one gather for the labels; no per-sample loop).
/// </summary>
internal static class SegmentationBatchAugmentation
{
    /// <param name="imagesUint8">[B, C, H, W].</param>
    /// <param name="labelsUint8">[B, H, W], class numbers or <see cref="LabelMaps.IgnoreIndex"/>.</param>
    /// <param name="generator">
    /// Source of the scales, offsets and flips (the step's generator). Draws are made on the CPU, so a seed gives the same
    /// augmentation on every device.
    /// </param>
    /// <returns>
    /// Images float32 [B, C, h, w] and labels int64 [B, h, w] on the device of <paramref name="imagesUint8"/>, where
    /// h×w is the crop size (H×W without augmentation or crop size).
    /// </returns>
    /// <remarks>
    /// As the reference scales with OpenCV: a factor s gives a round(H·s)×round(W·s) image, sampled bilinearly at
    /// ((i + 0.5)/s − 0.5) with edge pixels repeated, and labels by nearest neighbour at floor(i/s). Padding is applied
    /// after normalisation, so padded image pixels are 0, the dataset's mean colour (the reference subtracts the mean
    /// and pads with 0).
    /// </remarks>
    public static (Tensor Images, Tensor Labels) Prepare(Tensor imagesUint8, Tensor labelsUint8, float[] mean, float[] std,
        SegmentationAugmentationPolicy policy, Generator? generator)
    {
        if (labelsUint8.dtype != ScalarType.Byte || labelsUint8.dim() != 3 || imagesUint8.dim() != 4
            || labelsUint8.shape[0] != imagesUint8.shape[0] || labelsUint8.shape[1] != imagesUint8.shape[2]
            || labelsUint8.shape[2] != imagesUint8.shape[3])
            throw new ArgumentException($"labels must be uint8 [B, H, W] matching images [B, C, H, W], got {labelsUint8.dtype} " +
                                        $"{ImageSet.FormatShape(labelsUint8.shape)} and {ImageSet.FormatShape(imagesUint8.shape)}");
        policy.Validate();

        using var scope = NewDisposeScope();
        var normalised = BatchAugmentation.Prepare(imagesUint8, mean, std, AugmentationPolicy.None, generator: null);
        var labels = labelsUint8.to_type(ScalarType.Int64);
        if (policy.IsNone)
            return (normalised.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());

        var (sampledImages, sampledLabels) = ScaleCropFlip(normalised, labels, policy, generator);
        return (sampledImages.MoveToOuterDisposeScope(), sampledLabels.MoveToOuterDisposeScope());
    }

    private static (Tensor Images, Tensor Labels) ScaleCropFlip(Tensor images, Tensor labels, SegmentationAugmentationPolicy policy,
        Generator? generator)
    {
        long batch = images.shape[0], height = images.shape[2], width = images.shape[3];
        long cropHeight = policy.CropSize ?? height, cropWidth = policy.CropSize ?? width;

        // Per-sample draws, on the CPU in float64: scale, offsets within the (padded) scaled image, mirror.
        long steps = (long)Math.Round((policy.MaxScale - policy.MinScale) / SegmentationAugmentationPolicy.ScaleStep);
        var scale = randint(0, steps + 1, [batch], ScalarType.Int64, generator: generator).to_type(ScalarType.Float64)
            .mul_(SegmentationAugmentationPolicy.ScaleStep).add_(policy.MinScale);
        var offsetDraws = rand([batch, 2], ScalarType.Float64, generator: generator);
        var mirror = policy.Flip
            ? randint(0, 2, [batch], ScalarType.Int64, generator: generator).to_type(ScalarType.Bool)
            : zeros([batch], ScalarType.Bool);
        var scaledHeight = (scale * height).round_();
        var scaledWidth = (scale * width).round_();
        var top = offsetDraws[.., 0].mul((scaledHeight - cropHeight).clamp_min_(0).add_(1)).floor_();
        var left = offsetDraws[.., 1].mul((scaledWidth - cropWidth).clamp_min_(0).add_(1)).floor_();

        // Per sample, as [B, 1] columns on the images' device.
        var device = images.device;
        var factor = scale.to(device).view(batch, 1);
        var rowLimit = scaledHeight.to(device).view(batch, 1);
        var columnLimit = scaledWidth.to(device).view(batch, 1);

        // Positions in the scaled image of each output row and column; a mirrored sample reads its columns backwards.
        var rows = top.to(device).view(batch, 1) + arange(cropHeight, ScalarType.Float64, device).view(1, cropHeight);
        var columnSteps = arange(cropWidth, ScalarType.Float64, device).view(1, cropWidth);
        var columns = left.to(device).view(batch, 1) + where(mirror.to(device).view(batch, 1), columnSteps.flip(1), columnSteps);
        var inside = rows.lt(rowLimit).view(batch, cropHeight, 1).logical_and(columns.lt(columnLimit).view(batch, 1, cropWidth));

        // Images: bilinear at ((i + 0.5)/s − 0.5) in input pixels, i.e. grid_sample's normalised (i + 0.5)/s·2/H − 1.
        var gridY = rows.add(0.5).div(factor).mul(2.0 / height).sub_(1).view(batch, cropHeight, 1).expand(batch, cropHeight, cropWidth);
        var gridX = columns.add(0.5).div(factor).mul(2.0 / width).sub_(1).view(batch, 1, cropWidth).expand(batch, cropHeight, cropWidth);
        var grid = stack([gridX, gridY], 3).to_type(images.dtype);
        var sampled = nn.functional.grid_sample(images, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
        sampled.mul_(inside.unsqueeze(1).to_type(sampled.dtype));

        // Labels: nearest at floor(i/s), clamped to the last row and column; padding is ignored.
        var sourceRows = rows.div(factor).floor_().clamp_max_(height - 1).to_type(ScalarType.Int64);
        var sourceColumns = columns.div(factor).floor_().clamp_max_(width - 1).to_type(ScalarType.Int64);
        var index = (sourceRows.view(batch, cropHeight, 1) * width + sourceColumns.view(batch, 1, cropWidth)).view(batch, -1);
        var picked = labels.view(batch, height * width).gather(1, index).view(batch, cropHeight, cropWidth);
        return (sampled, picked.masked_fill_(inside.logical_not(), LabelMaps.IgnoreIndex));
    }
}
