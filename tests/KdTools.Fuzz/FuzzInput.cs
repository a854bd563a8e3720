namespace KdTools.Fuzz;

/// <summary>
/// One fuzz input and the scratch folder it is laid out in. Readers of a folder (a dataset with a train and a test file)
/// get the input cut into parts at <see cref="Separator"/>: the first part is the first file, the second the second, and
/// a missing part repeats the last one, so a mutation of a single-file input still exercises both files.
/// </summary>
public sealed class FuzzInput
{
    /// <summary>Cuts an input into its files; AFL's dictionary (tests/fuzz/kdtools.dict) knows it.</summary>
    public static ReadOnlySpan<byte> Separator => "\n--KDFUZZ--\n"u8;

    public FuzzInput(byte[] bytes, string scratch)
    {
        Bytes = bytes;
        Scratch = scratch;
    }

    public byte[] Bytes { get; }

    /// <summary>An empty folder that belongs to this input only.</summary>
    public string Scratch { get; }

    /// <summary>How many parts the input has (one more than its separators).</summary>
    public int PartCount => Split(Bytes).Count;

    /// <summary>Part <paramref name="index"/> of the input (the last part when there are fewer).</summary>
    public byte[] Part(int index)
    {
        var parts = Split(Bytes);
        return parts[Math.Min(index, parts.Count - 1)];
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="relative"/> under the scratch folder, creating folders.</summary>
    public string Write(string relative, byte[] bytes)
    {
        var path = Path.Combine(Scratch, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The inverse of <see cref="Split"/>: the parts joined by the separator (seeds are written this way).</summary>
    public static byte[] Join(params byte[][] parts)
    {
        var output = new MemoryStream();
        for (int i = 0; i < parts.Length; i++)
        {
            if (i > 0) output.Write(Separator);
            output.Write(parts[i]);
        }
        return output.ToArray();
    }

    private static List<byte[]> Split(byte[] bytes)
    {
        var parts = new List<byte[]>();
        var rest = bytes.AsSpan();
        int at;
        while ((at = rest.IndexOf(Separator)) >= 0)
        {
            parts.Add(rest[..at].ToArray());
            rest = rest[(at + Separator.Length)..];
        }
        parts.Add(rest.ToArray());
        return parts;
    }
}
