namespace KdTools.Core.Tests.Data;

/// <summary>Writes small files in the exact CIFAR binary record layout, with pixel bytes that differ by position,
/// record and file so any mix-up of channel, row, column or record order changes the decoded values.</summary>
internal static class CifarFiles
{
    public const int PixelsPerImage = 3072;

    public static byte Pixel(int file, int record, int position) => (byte)((file * 101 + record * 37 + position * 7 + position / 97) % 256);

    /// <summary>CIFAR-10: each record is 1 label byte then 1024 R, 1024 G, 1024 B bytes, rows of 32.</summary>
    public static byte[] Cifar10(int file, params byte[] labels) => Records(file, labels.Select(l => new[] { l }).ToArray());

    /// <summary>CIFAR-100: each record is a coarse label byte, a fine label byte, then the pixels.</summary>
    public static byte[] Cifar100(int file, params (byte Coarse, byte Fine)[] labels) =>
        Records(file, labels.Select(l => new[] { l.Coarse, l.Fine }).ToArray());

    private static byte[] Records(int file, byte[][] headers)
    {
        var recordLength = headers[0].Length + PixelsPerImage;
        var bytes = new byte[headers.Length * recordLength];
        for (var r = 0; r < headers.Length; r++)
        {
            headers[r].CopyTo(bytes, r * recordLength);
            for (var p = 0; p < PixelsPerImage; p++)
                bytes[r * recordLength + headers[r].Length + p] = Pixel(file, r, p);
        }
        return bytes;
    }

    /// <summary>A complete CIFAR-10 folder: five training batches of three records and a test batch of three.</summary>
    public static void WriteCifar10(string folder)
    {
        Directory.CreateDirectory(folder);
        for (var f = 1; f <= 5; f++)
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{f}.bin"), Cifar10(f, Cifar10Label(f, 0), Cifar10Label(f, 1), Cifar10Label(f, 2)));
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), Cifar10(6, Cifar10Label(6, 0), Cifar10Label(6, 1), Cifar10Label(6, 2)));
    }

    public static byte Cifar10Label(int file, int record) => (byte)((file * 3 + record) % 10);
}
