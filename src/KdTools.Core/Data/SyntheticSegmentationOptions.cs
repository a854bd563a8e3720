namespace KdTools.Core.Data;

/// <summary>Settings of <see cref="SyntheticSegmentation.Create"/>. The defaults train a small teacher well within a minute of CPU.</summary>
/// <param name="Classes">Classes including the background (class 0): 2 to <see cref="SyntheticSegmentation.MaxClasses"/>.</param>
/// <param name="TrainCount">Training scenes.</param>
/// <param name="TestCount">Test scenes.</param>
/// <param name="ImageSize">Height and width in pixels (at least 16).</param>
/// <param name="Seed">Same seed ⇒ bitwise identical images and label maps.</param>
/// <param name="Noise">Standard deviation of the per-pixel Gaussian noise, in [0, 1] intensity units.</param>
/// <param name="MaxObjects">Objects per scene: the first always, each further one with probability 3/4.</param>
public sealed record SyntheticSegmentationOptions(
    int Classes = 6,
    int TrainCount = 512,
    int TestCount = 128,
    int ImageSize = 64,
    long Seed = 1,
    double Noise = 0.08,
    int MaxObjects = 4);
