using System.Globalization;
using TorchSharp;

namespace KdTools.Bench;

/// <summary>
/// This process's resident set, read from <c>/proc/self/status</c> (VmHWM, VmRSS) and <c>/proc/self/smaps</c> (every
/// mapping's Rss, grouped by what it is): libtorch's native libraries, the .NET runtime and JIT, the managed
/// assemblies, the GC heap, other anonymous memory (glibc's heap arenas: tensors, libtorch's and oneDNN's scratch,
/// what malloc keeps after a free), thread stacks and the rest. Linux only; empty elsewhere.
/// </summary>
internal static class MemoryBreakdown
{
    /// <summary>VmHWM (peak resident set) in MiB, or -1 where /proc is missing.</summary>
    public static double PeakResidentMb() => StatusMb("VmHWM:");

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    public static void Trim() { if (OperatingSystem.IsLinux()) MallocTrim(0); }

    public static double ResidentMb() => StatusMb("VmRSS:");

    private static double StatusMb(string key)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return -1;
        foreach (var line in File.ReadLines(path))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return Math.Round(double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024, 1);
        return -1;
    }

    /// <summary>Resident MiB per category of mapping, now (not at the peak).</summary>
    public static Dictionary<string, object> Now()
    {
        var groups = new SortedDictionary<string, double>(StringComparer.Ordinal);
        const string path = "/proc/self/smaps";
        if (!File.Exists(path)) return new Dictionary<string, object>();
        string category = "other";
        foreach (var line in File.ReadLines(path))
        {
            if (IsMappingHeader(line))
            {
                category = Categorise(line);
                continue;
            }
            if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                double kb = double.Parse(line[4..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                groups[category] = groups.GetValueOrDefault(category) + kb / 1024;
            }
        }
        var record = groups.ToDictionary(g => g.Key + "_mb", g => (object)Math.Round(g.Value, 1));
        var gc = GC.GetGCMemoryInfo();
        record["gc_heap_size_mb"] = Math.Round(gc.HeapSizeBytes / 1048576.0, 1);
        record["gc_committed_mb"] = Math.Round(gc.TotalCommittedBytes / 1048576.0, 1);
        record["vm_rss_mb"] = ResidentMb();
        record["vm_hwm_mb"] = PeakResidentMb();
        return record;
    }

    // "7f12a000-7f12b000 r-xp 00000000 08:01 1234   /usr/lib/x.so"
    private static bool IsMappingHeader(string line)
    {
        int dash = line.IndexOf('-');
        int space = line.IndexOf(' ');
        return dash > 0 && space > dash && line[..dash].All(char.IsAsciiHexDigit);
    }

    private static string Categorise(string header)
    {
        var parts = header.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        string name = parts.Length >= 6 ? parts[5].Trim() : "";
        string file = Path.GetFileName(name);
        if (name.Length == 0) return "anonymous";
        if (name == "[heap]") return "malloc_heap";
        if (name.StartsWith("[stack", StringComparison.Ordinal)) return "stacks";
        if (name.StartsWith('[')) return "kernel_other";
        if (file.StartsWith("libtorch_cpu", StringComparison.Ordinal)) return "libtorch_cpu_so";
        if (file.StartsWith("libtorch", StringComparison.Ordinal) || file.StartsWith("libc10", StringComparison.Ordinal) ||
            file.StartsWith("libgomp", StringComparison.Ordinal) || file.StartsWith("libLibTorchSharp", StringComparison.Ordinal))
            return "libtorch_other_so";
        if (file.StartsWith("libcoreclr", StringComparison.Ordinal) || file.StartsWith("libclrjit", StringComparison.Ordinal) ||
            file.StartsWith("libSystem.", StringComparison.Ordinal) || file.StartsWith("libhostfxr", StringComparison.Ordinal) ||
            file.StartsWith("libhostpolicy", StringComparison.Ordinal) || file.StartsWith("libclrgc", StringComparison.Ordinal))
            return "dotnet_runtime_so";
        if (file.EndsWith(".dll", StringComparison.Ordinal)) return "managed_assemblies";
        if (name.StartsWith("/memfd:doublemapper", StringComparison.Ordinal)) return "dotnet_jit_code";
        if (name.StartsWith("/dev/shm", StringComparison.Ordinal) || name.StartsWith("/memfd", StringComparison.Ordinal)) return "shared_memory";
        if (file.Contains(".so", StringComparison.Ordinal)) return "other_so";
        return "other_files";
    }
}
