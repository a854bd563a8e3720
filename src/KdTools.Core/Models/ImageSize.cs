namespace KdTools.Core.Models;

/// <summary>The height and width, in pixels, of the images a network was trained on.</summary>
public readonly record struct ImageSize(int Height, int Width)
{
    /// <summary>"16×16".</summary>
    public override string ToString() => $"{Height}×{Width}";
}
