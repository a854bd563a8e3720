namespace KdTools.Core.Data;

/// <summary>How border pixels are filled before a random crop.</summary>
public enum PaddingMode
{
    /// <summary>Black (0) borders: torchvision's <c>RandomCrop(32, padding=4)</c>, RepDistiller's setting.</summary>
    Zeros,

    /// <summary>Mirrored borders without repeating the edge: <c>padding_mode='reflect'</c>, DIH's setting.</summary>
    Reflect,
}

/// <summary>
/// The training-time augmentation of a run, applied per batch as tensor ops with the step's own generator.
/// A recipe names one; <see cref="None"/> turns augmentation off.
/// </summary>
public sealed record AugmentationPolicy
{
    /// <summary>Pixels of padding before the random crop back to the image size; 0 = no crop.</summary>
    public int Padding { get; init; } = 4;

    public PaddingMode PaddingMode { get; init; } = PaddingMode.Zeros;

    /// <summary>Random horizontal flip with probability 0.5.</summary>
    public bool Flip { get; init; } = true;

    /// <summary>Pad-4 zero crop and flip: the CIFAR standard.</summary>
    public static AugmentationPolicy Standard { get; } = new();

    public static AugmentationPolicy None { get; } = new() { Padding = 0, Flip = false };

    public bool IsNone => Padding == 0 && !Flip;

    /// <summary>Short text for run objects and CSV columns, e.g. <c>crop4,flip</c> or <c>none</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Padding > 0) parts.Add(PaddingMode == PaddingMode.Reflect ? $"crop{Padding}-reflect" : $"crop{Padding}");
        if (Flip) parts.Add("flip");
        return parts.Count == 0 ? "none" : string.Join(",", parts);
    }
}
