using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace KdTools.Core.Data;

/// <summary>A decoded label map: <see cref="Width"/>×<see cref="Height"/> class numbers, row-major.</summary>
internal sealed record LabelImage(int Width, int Height, byte[] Values);

/// <summary>
/// Label maps as PNG files (ISO/IEC 15948): reads the sample values of indexed (palette) and grayscale PNGs — the
/// class numbers, not the colours a palette maps them to, which is what general decoders such as stb_image return —
/// and writes indexed PNGs with a palette (VOC's by default) that any viewer shows in colour.
/// </summary>
internal static class LabelMapPng
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private const byte GrayscaleColorType = 0, PaletteColorType = 3;
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Reads the class numbers of the label PNG <paramref name="file"/>.</summary>
    public static LabelImage Read(string file) => Decode(File.ReadAllBytes(file), file);

    /// <summary>
    /// Decodes an indexed (bit depth 1, 2, 4 or 8) or grayscale (bit depth 1, 2, 4 or 8) non-interlaced PNG to its sample
    /// values. Every chunk's CRC is checked; <paramref name="source"/> names the file in errors.
    /// </summary>
    public static LabelImage Decode(ReadOnlySpan<byte> png, string source)
    {
        if (png.Length < Signature.Length || !png[..Signature.Length].SequenceEqual(Signature))
            throw Corrupt(source, "is not a PNG file (its signature is missing)");

        int width = 0, height = 0, bitDepth = 0;
        var compressed = new MemoryStream();
        bool sawHeader = false, sawEnd = false;
        int offset = Signature.Length;
        while (!sawEnd)
        {
            if (offset + 12 > png.Length) throw Corrupt(source, "is truncated (a chunk runs past the end of the file)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[offset..]);
            if (length > png.Length - offset - 12) throw Corrupt(source, "is truncated (a chunk runs past the end of the file)");
            var typeAndData = png.Slice(offset + 4, 4 + (int)length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(png[(offset + 8 + (int)length)..]);
            var type = Encoding.ASCII.GetString(typeAndData[..4]);
            if (Crc32(typeAndData) != storedCrc) throw Corrupt(source, $"is damaged (the CRC of its {type} chunk does not match)");
            var data = typeAndData[4..];
            offset += 12 + (int)length;

            switch (type)
            {
                case "IHDR":
                    (width, height, bitDepth) = ReadHeader(data, source);
                    sawHeader = true;
                    break;
                case "IDAT":
                    if (!sawHeader) throw Corrupt(source, "has image data before its IHDR header");
                    compressed.Write(data);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
        }
        if (!sawHeader || compressed.Length == 0) throw Corrupt(source, "has no IHDR header or no image data");

        int rowBytes = (int)(((long)width * bitDepth + 7) / 8);
        long expected = (long)height * (rowBytes + 1);
        // Deflate expands at most 1,032:1, so more rows than the data can hold mean a damaged file (or a decompression
        // bomb); refusing before allocating keeps a 60-byte file from claiming gigabytes.
        if (expected > ImageFolderReader.MaximumExpansion * compressed.Length + 1024)
            throw Corrupt(source, $"declares {width}x{height} pixels, more than its {compressed.Length:N0} bytes of compressed image data can hold");
        var filtered = Inflate(compressed, expected, source);
        return new LabelImage(width, height, Unpack(Unfilter(filtered, height, rowBytes, source), width, height, rowBytes, bitDepth));
    }

    /// <summary>
    /// Writes <paramref name="labels"/> (row-major, <paramref name="width"/>×<paramref name="height"/>) as an 8-bit
    /// indexed PNG with <paramref name="palette"/> (RGB triples; <see cref="VocPalette"/> when null), atomically: a
    /// temporary file beside <paramref name="file"/> is renamed over it.
    /// </summary>
    public static void Write(string file, ReadOnlySpan<byte> labels, int width, int height, IReadOnlyList<byte>? palette = null)
    {
        var bytes = Encode(labels, width, height, palette);
        var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, file, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>The bytes of the indexed PNG <see cref="Write"/> writes.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> labels, int width, int height, IReadOnlyList<byte>? palette = null)
    {
        palette ??= VocPalette.Colors;
        if (width < 1 || height < 1 || labels.Length != (long)width * height)
            throw new ArgumentException($"a {width}x{height} label map needs {(long)width * height} values, got {labels.Length}");
        if (palette.Count == 0 || palette.Count % 3 != 0 || palette.Count > 256 * 3)
            throw new ArgumentException($"a palette holds 1 to 256 RGB triples, got {palette.Count} bytes");

        var output = new MemoryStream();
        output.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = PaletteColorType;
        WriteChunk(output, "IHDR", header);
        WriteChunk(output, "PLTE", palette.ToArray());

        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter type None
                zlib.Write(labels.Slice(y * width, width));
            }
        WriteChunk(output, "IDAT", compressed.ToArray());
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static (int Width, int Height, int BitDepth) ReadHeader(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length != 13) throw Corrupt(source, "has a malformed IHDR header");
        int width = BinaryPrimitives.ReadInt32BigEndian(data), height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
        byte bitDepth = data[8], colorType = data[9], interlace = data[12];
        if (width < 1 || height < 1 || (long)width * height > int.MaxValue / 2)
            throw Corrupt(source, $"declares an unusable size {width}x{height}");
        if (colorType is not (PaletteColorType or GrayscaleColorType))
            throw Corrupt(source, $"is a {ColorTypeName(colorType)} PNG; a label map must be an indexed (palette) or grayscale PNG " +
                                  "whose values are the class numbers, not a colour rendering of them");
        if (bitDepth is not (1 or 2 or 4 or 8))
            throw Corrupt(source, $"has {bitDepth}-bit samples; label maps are read with 1, 2, 4 or 8 bits per pixel");
        if (data[10] != 0 || data[11] != 0) throw Corrupt(source, "uses an unknown compression or filter method");
        if (interlace != 0)
            throw Corrupt(source, "is Adam7-interlaced, which label maps are not read with; save it again without interlacing");
        return (width, height, bitDepth);
    }

    private static byte[] Inflate(MemoryStream compressed, long expected, string source)
    {
        var result = new byte[expected];
        compressed.Position = 0;
        try
        {
            using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
            zlib.ReadExactly(result);
        }
        // zlib reports some damaged streams as ZLibException, an IOException (the source is memory, so nothing else is).
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw Corrupt(source, $"has damaged or incomplete image data ({e.Message})");
        }
        return result;
    }

    /// <summary>Undoes the per-row filters (None, Sub, Up, Average, Paeth); samples of at most 8 bits step one byte per pixel.</summary>
    private static byte[] Unfilter(byte[] data, int height, int rowBytes, string source)
    {
        var rows = new byte[(long)height * rowBytes];
        for (int y = 0; y < height; y++)
        {
            long input = (long)y * (rowBytes + 1), row = (long)y * rowBytes, previous = row - rowBytes;
            byte filter = data[input];
            for (int x = 0; x < rowBytes; x++)
            {
                int raw = data[input + 1 + x];
                int left = x > 0 ? rows[row + x - 1] : 0;
                int up = y > 0 ? rows[previous + x] : 0;
                int upLeft = x > 0 && y > 0 ? rows[previous + x - 1] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw Corrupt(source, $"row {y} has unknown filter type {filter}"),
                };
                rows[row + x] = (byte)(raw + predictor);
            }
        }
        return rows;
    }

    private static int Paeth(int left, int up, int upLeft)
    {
        int estimate = left + up - upLeft;
        int toLeft = Math.Abs(estimate - left), toUp = Math.Abs(estimate - up), toUpLeft = Math.Abs(estimate - upLeft);
        return toLeft <= toUp && toLeft <= toUpLeft ? left : toUp <= toUpLeft ? up : upLeft;
    }

    /// <summary>Packed samples (most significant bits first) to one byte per pixel.</summary>
    private static byte[] Unpack(byte[] rows, int width, int height, int rowBytes, int bitDepth)
    {
        if (bitDepth == 8) return rows;
        var values = new byte[(long)width * height];
        int mask = (1 << bitDepth) - 1;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                long bit = (long)x * bitDepth;
                values[(long)y * width + x] = (byte)((rows[(long)y * rowBytes + bit / 8] >> (int)(8 - bitDepth - bit % 8)) & mask);
            }
        return values;
    }

    private static string ColorTypeName(byte colorType) => colorType switch
    {
        2 => "RGB",
        4 => "grayscale with alpha",
        6 => "RGBA",
        _ => $"colour type {colorType}",
    };

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeAndData = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData, 4);
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        output.Write(word);
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320) over type and data.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static KdException Corrupt(string source, string problem) =>
        new(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData, $"label map '{source}' {problem}", source);
}
