using System.Globalization;

namespace KdTools.Core.Data;

/// <summary>
/// The training-time augmentation of a segmentation run, as in the reference (Liu et al.'s and PSPNet's data
/// loaders): each sample is scaled by a random factor from <see cref="MinScale"/> to <see cref="MaxScale"/> in steps of
/// 0.1, padded at the bottom and right to the crop size when smaller (image with the mean colour, labels with
/// <see cref="LabelMaps.IgnoreIndex"/>), cropped at a random offset and mirrored with probability 0.5 — the image and
/// its label map together.
/// </summary>
public sealed record SegmentationAugmentationPolicy
{
    /// <summary>The reference's scale grid: factors are <see cref="MinScale"/> + k·0.1.</summary>
    public const double ScaleStep = 0.1;

    public double MinScale { get; init; } = 0.5;
    public double MaxScale { get; init; } = 2.0;

    /// <summary>Side of the square training crop; null keeps the stored image size.</summary>
    public int? CropSize { get; init; }

    /// <summary>Random horizontal flip with probability 0.5.</summary>
    public bool Flip { get; init; } = true;

    /// <summary>Scale 0.5–2.0, crop back to the image size, flip.</summary>
    public static SegmentationAugmentationPolicy Standard { get; } = new();

    public static SegmentationAugmentationPolicy None { get; } = new() { MinScale = 1, MaxScale = 1, Flip = false };

    public bool IsNone => MinScale == 1 && MaxScale == 1 && !Flip && CropSize is null;

    /// <summary>Short text for run objects and CSV columns, e.g. <c>scale0.5-2,flip</c>, <c>crop48,flip</c> or <c>none</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (MinScale != 1 || MaxScale != 1)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"scale{MinScale:0.##}-{MaxScale:0.##}"));
        if (CropSize is { } crop) parts.Add($"crop{crop}");
        if (Flip) parts.Add("flip");
        return parts.Count == 0 ? "none" : string.Join(",", parts);
    }

    internal void Validate()
    {
        if (!(MinScale > 0) || !(MaxScale >= MinScale) || double.IsInfinity(MaxScale))
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"augmentation scales must satisfy 0 < MinScale ≤ MaxScale, got {MinScale} and {MaxScale}", this);
        if (CropSize is < 1)
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"the crop size must be at least 1 pixel, got {CropSize}", this);
    }
}
