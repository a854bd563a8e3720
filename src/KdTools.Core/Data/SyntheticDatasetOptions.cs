namespace KdTools.Core.Data;

/// <summary>Settings of <see cref="SyntheticDataset.Create"/>. The defaults give a CIFAR-shaped set small enough for demos and tests.</summary>
/// <param name="Classes">Number of classes (at least 2).</param>
/// <param name="TrainCount">Training images, spread evenly over the classes (at least one per class).</param>
/// <param name="TestCount">Test images, spread evenly over the classes.</param>
/// <param name="ImageSize">Height and width in pixels (at least 8).</param>
/// <param name="Channels">Image channels.</param>
/// <param name="Seed">Same seed ⇒ bitwise identical images and labels.</param>
/// <param name="Noise">Standard deviation of the per-pixel Gaussian noise, in [0, 1] intensity units.</param>
public sealed record SyntheticDatasetOptions(
    int Classes = 10,
    int TrainCount = 2000,
    int TestCount = 500,
    int ImageSize = 32,
    int Channels = 3,
    long Seed = 1,
    double Noise = 0.1);
