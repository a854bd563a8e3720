namespace KdTools.Core.Data;

/// <summary>How border pixels are filled before a random crop.</summary>
public enum PaddingMode
{
    /// <summary>Black (0) borders: torchvision's <c>RandomCrop(32, padding=4)</c>, RepDistiller's setting.</summary>
    Zeros,

    /// <summary>Mirrored borders without repeating the edge: <c>padding_mode='reflect'</c>, DIH's setting.</summary>
    Reflect,

    /// <summary>Grey (128) borders: <c>RandomCrop(32, padding=4, fill=128)</c>, the TOFD and BYOT authors' setting.</summary>
    Gray,
}

/// <summary>
/// The training-time augmentation of a run, applied per batch as tensor ops with the step's own generator, in the
/// order of the references' transform lists: random crop, horizontal flip, AutoAugment, Cutout.
/// A recipe names one; <see cref="None"/> turns augmentation off.
/// </summary>
public sealed record AugmentationPolicy
{
    /// <summary>Pixels of padding before the random crop back to the image size; 0 = no crop.</summary>
    public int Padding { get; init; } = 4;

    public PaddingMode PaddingMode { get; init; } = PaddingMode.Zeros;

    /// <summary>Random horizontal flip with probability 0.5.</summary>
    public bool Flip { get; init; } = true;

    /// <summary>
    /// AutoAugment's CIFAR-10 policy (Cubuk et al. 2019) after crop and flip: per image one of its 25 sub-policies, as
    /// the implementation the BYOT authors train with defines them (see <see cref="CifarAutoAugment"/>).
    /// </summary>
    public bool AutoAugment { get; init; }

    /// <summary>
    /// Cutout (DeVries &amp; Taylor 2017), last: one square hole of this side length in pixels, centred anywhere in
    /// the image and clipped at its borders, set to 0 in every channel; 0 = off. The TOFD and BYOT authors use 16 on CIFAR.
    /// </summary>
    public int Cutout { get; init; }

    /// <summary>Pad-4 zero crop and flip: the CIFAR standard.</summary>
    public static AugmentationPolicy Standard { get; } = new();

    public static AugmentationPolicy None { get; } = new() { Padding = 0, Flip = false };

    public bool IsNone => Padding == 0 && !Flip && !AutoAugment && Cutout == 0;

    /// <summary>Short text for run objects and CSV columns, e.g. <c>crop4,flip</c>, <c>crop4-gray,flip,autoaugment,cutout16</c> or <c>none</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Padding > 0)
            parts.Add(PaddingMode switch
            {
                PaddingMode.Reflect => $"crop{Padding}-reflect",
                PaddingMode.Gray => $"crop{Padding}-gray",
                _ => $"crop{Padding}",
            });
        if (Flip) parts.Add("flip");
        if (AutoAugment) parts.Add("autoaugment");
        if (Cutout > 0) parts.Add($"cutout{Cutout}");
        return parts.Count == 0 ? "none" : string.Join(",", parts);
    }
}
