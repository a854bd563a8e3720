using System.Diagnostics;
using System.Text.Json;

namespace KdTools.Bench;

/// <summary>
/// Wall-clock milliseconds of repeated calls: the median, and the minimum, which on a shared machine is the steadier
/// estimate of the work itself (other load only ever adds time).
/// </summary>
/// <param name="CpuMs">
/// The median CPU time (user + system, every thread of the process) of one call: what the step cost in work rather
/// than in waiting for a core, so it survives a loaded machine far better than wall time (at one thread it is the
/// step's work; at more it includes the time intra-op threads spin waiting for each other). NaN where unknown.
/// </param>
internal readonly record struct Timing(double MedianMs, double MinMs, double CpuMs = double.NaN)
{
    public static Timing Of(int warmup, int iterations, Action step)
    {
        for (int i = 0; i < warmup; i++) step();
        var times = new double[iterations];
        var cpu = new double[iterations];
        using var self = Process.GetCurrentProcess();
        for (int i = 0; i < iterations; i++)
        {
            self.Refresh();
            var cpuStart = self.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            step();
            times[i] = clock.Elapsed.TotalMilliseconds;
            self.Refresh();
            cpu[i] = (self.TotalProcessorTime - cpuStart).TotalMilliseconds;
        }
        Array.Sort(times);
        return new Timing(Median(times), times[0], Median(cpu));
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>This timing over <paramref name="other"/>, median by median and minimum by minimum.</summary>
    public Ratio Over(Timing other) => new(MedianMs / other.MedianMs, MinMs / other.MinMs);

    /// <summary>Adds <c>{key}_ms</c> (median) and <c>{key}_min_ms</c> to a JSON record.</summary>
    public void AddMs(Dictionary<string, object> record, string key)
    {
        record[$"{key}_ms"] = Math.Round(MedianMs, 2);
        record[$"{key}_min_ms"] = Math.Round(MinMs, 2);
        if (double.IsFinite(CpuMs)) record[$"{key}_cpu_ms"] = Math.Round(CpuMs, 2);
    }

    /// <summary>Reads what <see cref="AddMs"/> wrote.</summary>
    public static Timing Read(JsonElement record, string key) =>
        new(record.GetProperty($"{key}_ms").GetDouble(), record.GetProperty($"{key}_min_ms").GetDouble(),
            record.TryGetProperty($"{key}_cpu_ms", out var cpu) ? cpu.GetDouble() : double.NaN);
}

/// <summary>A ratio of two timings: of their medians and of their minima.</summary>
internal readonly record struct Ratio(double OfMedians, double OfMinima)
{
    public Ratio Over(Ratio other) => new(OfMedians / other.OfMedians, OfMinima / other.OfMinima);

    /// <summary>Adds <c>{key}</c> (of medians) and <c>{key}_min</c> (of minima) to a JSON record.</summary>
    public void Add(Dictionary<string, object> record, string key)
    {
        record[key] = Math.Round(OfMedians, 3);
        record[$"{key}_min"] = Math.Round(OfMinima, 3);
    }

    /// <summary>Reads what <see cref="Add"/> wrote.</summary>
    public static Ratio Read(JsonElement record, string key) =>
        new(record.GetProperty(key).GetDouble(), record.GetProperty($"{key}_min").GetDouble());
}
