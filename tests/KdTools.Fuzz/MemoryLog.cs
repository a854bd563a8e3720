using System.Diagnostics;

namespace KdTools.Fuzz;

/// <summary>
/// The native side of the memory contract, measured from outside the reader: the fuzzing process's resident set (Linux's
/// VmRSS) after its first input, and its peak (VmHWM) since, over every input it ran, with the largest input. Managed
/// allocations are checked per input by <see cref="FuzzContract"/>; this catches what they cannot see (TorchSharp's
/// tensors, ONNX Runtime, zlib), as a whole-process number. Written every few seconds to <c>{path}.{pid}</c>, one line
/// of tab-separated <c>key=value</c>, because AFL++ ends the process with a signal (no exit hook runs).
/// </summary>
public sealed class MemoryLog(string path)
{
    private readonly string _file = $"{path}.{Environment.ProcessId}";
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _inputs, _largestInput, _firstRssKb = -1;
    private TimeSpan _written = TimeSpan.Zero;

    public void After(int inputBytes)
    {
        _inputs++;
        _largestInput = Math.Max(_largestInput, inputBytes);
        if (_firstRssKb < 0) _firstRssKb = Status("VmRSS");
        if (_inputs > 1 && _clock.Elapsed - _written < TimeSpan.FromSeconds(5)) return;
        _written = _clock.Elapsed;
        var line = $"inputs={_inputs}\tfirst_rss_kb={_firstRssKb}\trss_kb={Status("VmRSS")}\thwm_kb={Status("VmHWM")}\t" +
                   $"largest_input={_largestInput}\tgc_heap_kb={GC.GetTotalMemory(false) >> 10}\n";
        try
        {
            File.WriteAllText(_file + ".tmp", line);
            File.Move(_file + ".tmp", _file, overwrite: true);
        }
        catch (IOException)
        {
            // A full disk must not end the campaign; the next write tries again.
        }
    }

    /// <summary>A /proc/self/status field in KiB (-1 off Linux).</summary>
    private static long Status(string field)
    {
        if (!File.Exists("/proc/self/status")) return -1;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
        return -1;
    }
}
