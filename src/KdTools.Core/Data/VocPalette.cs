namespace KdTools.Core.Data;

/// <summary>
/// The colour map of Pascal VOC's label PNGs: entry i spreads the bits of i over red, green and blue from the most
/// significant bit down (bit 0 → red, bit 1 → green, bit 2 → blue, then the next three bits one place lower), so
/// 0 is black, 1 dark red, 15 (person) pinkish and 255 (ignore) cream (224, 224, 192).
/// </summary>
internal static class VocPalette
{
    /// <summary>256 RGB triples, 768 bytes, in index order.</summary>
    public static IReadOnlyList<byte> Colors { get; } = Build();

    private static byte[] Build()
    {
        var colors = new byte[256 * 3];
        for (int index = 0; index < 256; index++)
        {
            int bits = index;
            for (int shift = 7; bits > 0; shift--, bits >>= 3)
                for (int channel = 0; channel < 3; channel++)
                    colors[index * 3 + channel] |= (byte)(((bits >> channel) & 1) << shift);
        }
        return colors;
    }
}
