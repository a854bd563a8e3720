using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace KdTools.Fuzz;

/// <summary>
/// Small image files written byte by byte in their published formats (PNG of every colour type and bit depth a reader
/// takes, BMP, TGA, a one-pixel GIF), the valid starting points of the image and label-map seeds.
/// </summary>
internal static class ImageBytes
{
    /// <summary>A PNG from unfiltered rows of packed samples (<paramref name="rows"/> holds height rows of
    /// ceil(width × channels × bitDepth / 8) bytes), with <paramref name="palette"/> for colour type 3.</summary>
    public static byte[] Png(int width, int height, byte colorType, byte bitDepth, byte[] rows, byte[]? palette = null, byte filter = 0)
    {
        int rowBytes = rows.Length / height;
        var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = bitDepth;
        header[9] = colorType;
        Chunk(output, "IHDR", header);
        if (palette is not null) Chunk(output, "PLTE", palette);
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                // Filter "Up" on the rows after the first exercises the reader's unfiltering; the first row stays raw.
                zlib.WriteByte(y == 0 ? (byte)0 : filter);
                for (int x = 0; x < rowBytes; x++)
                {
                    byte value = rows[y * rowBytes + x];
                    zlib.WriteByte(filter == 2 && y > 0 ? (byte)(value - rows[(y - 1) * rowBytes + x]) : value);
                }
            }
        Chunk(output, "IDAT", compressed.ToArray());
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>24-bit uncompressed BMP, bottom-up BGR rows padded to 4 bytes.</summary>
    public static byte[] Bmp(int width, int height, byte[] rgb)
    {
        int stride = (width * 3 + 3) / 4 * 4;
        var bytes = new byte[54 + stride * height];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), stride * height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int source = (y * width + x) * 3, target = 54 + (height - 1 - y) * stride + x * 3;
                bytes[target] = rgb[source + 2];
                bytes[target + 1] = rgb[source + 1];
                bytes[target + 2] = rgb[source];
            }
        return bytes;
    }

    /// <summary>Uncompressed true-colour TGA (type 2), 24 bits, top-left origin, BGR.</summary>
    public static byte[] Tga(int width, int height, byte[] rgb)
    {
        var bytes = new byte[18 + width * height * 3];
        bytes[2] = 2;
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(12), (short)width);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(14), (short)height);
        bytes[16] = 24;
        bytes[17] = 0x20; // top-left origin
        for (int p = 0; p < width * height; p++)
        {
            bytes[18 + 3 * p] = rgb[3 * p + 2];
            bytes[18 + 3 * p + 1] = rgb[3 * p + 1];
            bytes[18 + 3 * p + 2] = rgb[3 * p];
        }
        return bytes;
    }

    /// <summary>A one-pixel GIF89a (a two-colour palette, one LZW-coded pixel).</summary>
    public static byte[] Gif() =>
    [
        .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0xFF, 0xFF, 0xFF, 0, 0, 0,
        (byte)',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, (byte)';',
    ];

    /// <summary>
    /// The bytes with every PNG chunk's CRC recomputed, so that a mutation inside a chunk reaches the code behind the CRC
    /// check instead of stopping at it (libpng's fuzzers do the same). An input whose last byte is 0 keeps its CRCs as they
    /// are, so the CRC check itself is still fuzzed; so does anything that is not a PNG.
    /// </summary>
    public static byte[] WithPngCrcs(byte[] bytes)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (bytes.Length == 0 || bytes[^1] == 0 || !bytes.AsSpan().StartsWith(signature)) return bytes;
        var fixedBytes = (byte[])bytes.Clone();
        for (long at = signature.Length; at + 12 <= fixedBytes.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(fixedBytes.AsSpan((int)at));
            if (at + 12 + length > fixedBytes.Length) break;
            var typeAndData = fixedBytes.AsSpan((int)at + 4, (int)length + 4);
            BinaryPrimitives.WriteUInt32BigEndian(fixedBytes.AsSpan((int)(at + 8 + length)), Crc32.HashToUInt32(typeAndData));
            at += 12 + length;
        }
        return fixedBytes;
    }

    /// <summary>Pixels that are not all alike: value i·37 + channel, wrapping.</summary>
    public static byte[] Pattern(int count) => Enumerable.Range(0, count).Select(i => (byte)(i * 37 + i / 3)).ToArray();

    private static void Chunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typeAndData));
        output.Write(word);
    }
}
