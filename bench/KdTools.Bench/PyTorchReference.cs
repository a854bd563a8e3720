using System.Diagnostics;
using System.Text.Json;

namespace KdTools.Bench;

/// <summary>Runs bench/pytorch/bench_torch.py (Debian's python3-torch) in the same session and reads its JSON lines.</summary>
internal static class PyTorchReference
{
    public static IReadOnlyList<StepTimes> Run(BenchOptions o)
    {
        var script = Path.Combine(FindRepositoryRoot(), "bench", "pytorch", "bench_torch.py");
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { script, "--warmup", o.Warmup.ToString(), "--iters", o.Iterations.ToString(), "--threads", o.Threads.ToString() },
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start python3");
        var results = new List<StepTimes>();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            Console.WriteLine(line);
            if (!line.StartsWith('{')) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (!r.TryGetProperty("ce_step_ms", out _)) continue;
            results.Add(new StepTimes(r.GetProperty("student").GetString()!, r.GetProperty("teacher").GetString()!,
                r.GetProperty("batch").GetInt32(), r.GetProperty("threads").GetInt32(), r.GetProperty("ce_step_ms").GetDouble(),
                r.GetProperty("kd_step_ms").GetDouble(), r.GetProperty("teacher_eval_ms").GetDouble()));
        }
        process.WaitForExit();
        if (process.ExitCode != 0) Console.Error.WriteLine($"bench: bench_torch.py exited with {process.ExitCode}");
        return results;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KdTools.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("KdTools.sln not found above the benchmark binaries");
    }
}
