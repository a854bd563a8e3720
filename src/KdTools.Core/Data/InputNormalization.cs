namespace KdTools.Core.Data;

/// <summary>
/// Per-channel mean and standard deviation, in [0, 1] pixel units, that a network's inputs are normalised with:
/// <c>(pixel / 255 − mean) / std</c>. A network is trained with one and must be fed inputs normalised the same way.
/// </summary>
public sealed record InputNormalization
{
    public InputNormalization(float[] mean, float[] std)
    {
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"mean and std need one value per channel; got {mean.Length} and {std.Length}");
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException($"every std must be positive; got {string.Join(", ", std)}");
        Mean = mean.ToArray();
        Std = std.ToArray();
    }

    public float[] Mean { get; }
    public float[] Std { get; }
    public int Channels => Mean.Length;

    public bool Equals(InputNormalization? other) =>
        other is not null && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    public override int GetHashCode() => HashCode.Combine(Mean.Length, Mean[0], Std[0]);

    public override string ToString() =>
        $"mean {string.Join("/", Mean.Select(m => m.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)))}, " +
        $"std {string.Join("/", Std.Select(s => s.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)))}";
}
