using System.Buffers.Binary;
using System.Diagnostics;

namespace KdTools.Fuzz;

/// <summary>
/// A seeded mutation loop over a corpus, without coverage feedback: the short fuzz CI runs (a few seconds per target, on
/// any machine, no AFL++ needed). The campaign (<c>./build.sh fuzz</c>) is AFL++'s coverage-guided search; this only
/// applies AFL-style havoc (bit flips, interesting integers, block deletion, duplication and splicing) to the seeds.
/// </summary>
public static class Mutator
{
    private static readonly long[] Interesting =
        [0, 1, -1, 2, 7, 8, 16, 32, 64, 100, 127, 128, 255, 256, 1024, 4096, 32767, 32768, 65535, 65536, int.MaxValue,
         int.MinValue, uint.MaxValue, 1L << 31, 1L << 32, 1L << 40, long.MaxValue, long.MinValue];

    /// <summary>Mutates inputs drawn from <paramref name="corpus"/> until <paramref name="budget"/> has passed, checking each;
    /// stops at the first violation and returns it with the input that caused it.</summary>
    public static (int Executions, byte[]? Failing, ContractViolation? Violation) Run(
        FuzzTarget target, IReadOnlyList<byte[]> corpus, TimeSpan budget, int seed, string scratchRoot, TimeSpan inputLimit)
    {
        var clock = Stopwatch.StartNew();
        return Run(target, corpus, () => clock.Elapsed < budget, seed, scratchRoot, inputLimit);
    }

    /// <summary>Checks exactly <paramref name="count"/> mutated inputs: the same inputs on every machine, however fast, so a
    /// test built on it finds the same things everywhere (a time budget tries more inputs on a faster machine).</summary>
    public static (int Executions, byte[]? Failing, ContractViolation? Violation) Run(
        FuzzTarget target, IReadOnlyList<byte[]> corpus, int count, int seed, string scratchRoot, TimeSpan inputLimit)
    {
        int checkedSoFar = 0;
        return Run(target, corpus, () => checkedSoFar++ < count, seed, scratchRoot, inputLimit);
    }

    private static (int Executions, byte[]? Failing, ContractViolation? Violation) Run(
        FuzzTarget target, IReadOnlyList<byte[]> corpus, Func<bool> more, int seed, string scratchRoot, TimeSpan inputLimit)
    {
        var random = new Random(seed);
        int executions = 0;
        while (more())
        {
            var input = Mutate(corpus[random.Next(corpus.Count)], corpus, random);
            executions++;
            try
            {
                FuzzContract.CheckWithin(target, input, scratchRoot, inputLimit);
            }
            catch (ContractViolation violation)
            {
                return (executions, input, violation);
            }
        }
        return (executions, null, null);
    }

    public static byte[] Mutate(byte[] original, IReadOnlyList<byte[]> corpus, Random random)
    {
        var data = new List<byte>(original);
        int rounds = 1 << random.Next(1, 5);
        for (int r = 0; r < rounds; r++)
        {
            if (data.Count == 0) { data.Add((byte)random.Next(256)); continue; }
            int at = random.Next(data.Count);
            switch (random.Next(9))
            {
                case 0: data[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: data[at] = (byte)random.Next(256); break;
                case 2: data[at] = (byte)Interesting[random.Next(Interesting.Length)]; break;
                case 3: WriteInteger(data, at, random); break;
                case 4: data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(Math.Min(64, data.Count)))); break;
                case 5:
                {
                    int length = Math.Min(data.Count - at, 1 + random.Next(64));
                    data.InsertRange(random.Next(data.Count + 1), data.GetRange(at, length));
                    break;
                }
                case 6:
                {
                    var other = corpus[random.Next(corpus.Count)];
                    if (other.Length == 0) break;
                    int from = random.Next(other.Length), length = Math.Min(other.Length - from, 1 + random.Next(256));
                    data.InsertRange(at, other.AsSpan(from, length).ToArray());
                    break;
                }
                case 7: data.RemoveRange(at, data.Count - at); break; // truncation
                default: data[at] = (byte)(data[at] + random.Next(-35, 36)); break;
            }
        }
        return data.ToArray();
    }

    /// <summary>An interesting integer, 2, 4 or 8 bytes, little- or big-endian, over the bytes at <paramref name="at"/>.</summary>
    private static void WriteInteger(List<byte> data, int at, Random random)
    {
        int width = 2 << random.Next(3);
        Span<byte> bytes = stackalloc byte[8];
        long value = Interesting[random.Next(Interesting.Length)];
        if (random.Next(2) == 0) BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        else BinaryPrimitives.WriteInt64BigEndian(bytes, value << (64 - 8 * width));
        for (int i = 0; i < width && at + i < data.Count; i++) data[at + i] = bytes[i];
    }
}
