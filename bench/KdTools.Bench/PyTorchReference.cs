using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace KdTools.Bench;

/// <summary>What bench_torch.py measured.</summary>
internal sealed record PyTorchResults(IReadOnlyList<StepTimes> Pairs, IReadOnlyDictionary<string, MethodStepTime> Methods, HeadFineTuneTimes? HeadFineTune);

/// <summary>Runs bench/pytorch/bench_torch.py (Debian's python3-torch) after the KdTools part and reads its JSON lines.</summary>
internal static class PyTorchReference
{
    /// <summary>The methods bench_torch.py has reference formulas for (its METHODS).</summary>
    private static readonly HashSet<string> ReferencedMethods = new(["KD", "AT", "FitNet", "PKT", "RKD", "DKD", "DIST"], StringComparer.OrdinalIgnoreCase);

    public static PyTorchResults Run(BenchOptions o, IEnumerable<string> methods)
    {
        var script = Path.Combine(FindRepositoryRoot(), "bench", "pytorch", "bench_torch.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        foreach (var (flag, value) in new[]
                 {
                     ("--warmup", o.Warmup), ("--iters", o.Iterations), ("--method-warmup", o.MethodWarmup),
                     ("--method-iters", o.MethodIterations), ("--threads", o.Threads), ("--batch", o.BatchSize), ("--classes", o.Classes),
                 })
        {
            start.ArgumentList.Add(flag);
            start.ArgumentList.Add(value.ToString(CultureInfo.InvariantCulture));
        }
        // The script has references for a few methods only; it always adds KD.
        var referenced = methods.Where(m => ReferencedMethods.Contains(m)).ToList();
        start.ArgumentList.Add("--methods");
        start.ArgumentList.Add(string.Join(",", referenced));

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        var pairs = new List<StepTimes>();
        var methodSteps = new Dictionary<string, MethodStepTime>();
        HeadFineTuneTimes? head = null;
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            Console.WriteLine(line);
            if (!line.StartsWith('{')) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            string Text(string name) => r.GetProperty(name).GetString()!;
            switch (r.TryGetProperty("bench", out var bench) ? bench.GetString() : null)
            {
                case null:
                    pairs.Add(new StepTimes(Text("student"), Text("teacher"), r.GetProperty("batch").GetInt32(),
                        r.GetProperty("threads").GetInt32(), Timing.Read(r, "ce_step"), Timing.Read(r, "kd_step"), Timing.Read(r, "teacher_eval")));
                    break;
                case "method_step":
                    methodSteps[Text("method")] = new MethodStepTime(Text("method"), Timing.Read(r, "step"), Ratio.Read(r, "ratio_to_kd"));
                    break;
                case "head_finetune":
                    head = new HeadFineTuneTimes(Text("teacher"), Timing.Read(r, "head_step"), Timing.Read(r, "train_step"));
                    break;
            }
        }
        process.WaitForExit();
        if (process.ExitCode != 0) Console.Error.WriteLine($"bench: bench_torch.py exited with {process.ExitCode}");
        return new PyTorchResults(pairs, methodSteps, head);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KdTools.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("KdTools.sln not found above the benchmark binaries");
    }
}
