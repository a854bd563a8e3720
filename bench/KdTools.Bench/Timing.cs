using System.Diagnostics;
using System.Text.Json;

namespace KdTools.Bench;

/// <summary>
/// Wall-clock milliseconds of repeated calls: the median, and the minimum, which on a shared machine is the steadier
/// estimate of the work itself (other load only ever adds time).
/// </summary>
internal readonly record struct Timing(double MedianMs, double MinMs)
{
    public static Timing Of(int warmup, int iterations, Action step)
    {
        for (int i = 0; i < warmup; i++) step();
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            step();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double median = iterations % 2 == 1 ? times[iterations / 2] : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
        return new Timing(median, times[0]);
    }

    /// <summary>This timing over <paramref name="other"/>, median by median and minimum by minimum.</summary>
    public Ratio Over(Timing other) => new(MedianMs / other.MedianMs, MinMs / other.MinMs);

    /// <summary>Adds <c>{key}_ms</c> (median) and <c>{key}_min_ms</c> to a JSON record.</summary>
    public void AddMs(Dictionary<string, object> record, string key)
    {
        record[$"{key}_ms"] = Math.Round(MedianMs, 2);
        record[$"{key}_min_ms"] = Math.Round(MinMs, 2);
    }

    /// <summary>Reads what <see cref="AddMs"/> wrote.</summary>
    public static Timing Read(JsonElement record, string key) =>
        new(record.GetProperty($"{key}_ms").GetDouble(), record.GetProperty($"{key}_min_ms").GetDouble());
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
