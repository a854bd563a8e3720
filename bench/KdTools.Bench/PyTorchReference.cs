using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace KdTools.Bench;

/// <summary>What bench_torch.py measured.</summary>
internal sealed record PyTorchResults(string Torch, IReadOnlyList<StepTimes> Pairs, IReadOnlyDictionary<string, MethodStepTime> Methods,
    HeadFineTuneTimes? HeadFineTune, IReadOnlyList<SegmentationStepTimes> Segmentation, IReadOnlyList<StudentStepTimes> Students);

/// <summary>What e2e_torch.py measured: its whole run and its peak resident set.</summary>
internal sealed record PyTorchEndToEnd(string Torch, double TotalSeconds, double PeakMb, double TeacherForwardSeconds, double CpuSeconds);

/// <summary>
/// A Python with PyTorch to compare against: Debian 12's <c>/usr/bin/python3</c> (PyTorch 1.13) and, where it exists,
/// Debian 13's (PyTorch 2.6) in the chroot at <see cref="TrixieRoot"/>, entered in a private mount namespace (its /proc,
/// the repository at /mnt and a RepDistiller checkout at /srv bind-mounted there only, gone when the process ends; needs
/// root). OpenBLAS gets one thread: its idle threads spin and would steal the cores the timed framework runs on.
/// <see cref="RepDistillerModels"/>: RepDistiller's models folder as this Python sees it, or null.
/// </summary>
internal sealed record PythonTorch(string Label, string FileName, IReadOnlyList<string> Prefix, string ScriptFolder, string? RepDistillerModels)
{
    public const string TrixieRoot = "/opt/kdtools-trixie";

    public static IReadOnlyList<PythonTorch> Available(string repositoryRoot, string? repDistiller = null)
    {
        var scripts = Path.Combine(repositoryRoot, "bench", "pytorch");
        string? models = repDistiller is null ? null : Path.Combine(repDistiller, "models");
        var found = new List<PythonTorch> { new("debian12", "/usr/bin/python3", [], scripts, models) };
        if (File.Exists(Path.Combine(TrixieRoot, "usr", "bin", "python3")) && Environment.UserName == "root")
        {
            // The whole repository, so that the scripts can import the tests' PyTorch definitions.
            string mounts = $"mount --bind /proc {TrixieRoot}/proc && mount --bind '{repositoryRoot}' {TrixieRoot}/mnt" +
                (repDistiller is null ? "" : $" && mount --bind '{repDistiller}' {TrixieRoot}/srv");
            found.Add(new("debian13", "/usr/bin/unshare",
                ["-m", "sh", "-c", $"{mounts} && exec chroot {TrixieRoot} /usr/bin/python3 \"$@\"", "sh"],
                "/mnt/bench/pytorch", repDistiller is null ? null : "/srv/models"));
        }
        else Console.Error.WriteLine($"bench: no PyTorch 2.6 comparison ({TrixieRoot} missing or not root: it is entered with unshare and chroot)");
        return found;
    }

    /// <summary>A process that runs <paramref name="script"/> (a file of bench/pytorch) with this Python.</summary>
    public ProcessStartInfo Start(string script)
    {
        var start = new ProcessStartInfo(FileName) { RedirectStandardOutput = true };
        foreach (var argument in Prefix) start.ArgumentList.Add(argument);
        start.ArgumentList.Add(Path.Combine(ScriptFolder, script));
        start.Environment["OPENBLAS_NUM_THREADS"] = "1";
        return start;
    }
}

/// <summary>Runs bench/pytorch/bench_torch.py after the KdTools part and reads its JSON lines.</summary>
internal static class PyTorchReference
{
    /// <summary>The methods bench_torch.py has reference formulas for (its METHODS).</summary>
    public static readonly HashSet<string> ReferencedMethods =
        new(["KD", "AT", "FitNet", "PKT", "RKD", "DKD", "DIST", "CRD", "MHKD"], StringComparer.OrdinalIgnoreCase);

    public static PyTorchResults Run(BenchOptions o, IEnumerable<string> methods, PythonTorch python)
    {
        var start = python.Start("bench_torch.py");
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
        start.ArgumentList.Add("--parts");
        start.ArgumentList.Add(string.Join(",", new[] { "pairs", "methods", "head", "segmentation", "students" }.Where(o.Runs)));
        if (o.Runs("students"))
        {
            start.ArgumentList.Add("--students");
            start.ArgumentList.Add(string.Join(",", o.Students ?? StudentStepBenchmark.DefaultStudents));
            if (python.RepDistillerModels is { } models)
            {
                start.ArgumentList.Add("--student-models");
                start.ArgumentList.Add(models);
            }
        }
        start.ArgumentList.Add("--methods");
        start.ArgumentList.Add(string.Join(",", referenced));

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var pairs = new List<StepTimes>();
        var methodSteps = new Dictionary<string, MethodStepTime>();
        HeadFineTuneTimes? head = null;
        var segmentation = new List<SegmentationStepTimes>();
        var students = new List<StudentStepTimes>();
        string torch = "?";
        foreach (var r in JsonLines(process))
        {
            string Text(string name) => r.GetProperty(name).GetString()!;
            if (r.TryGetProperty("torch", out var version)) torch = version.GetString()!;
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
                case "segmentation_step":
                    segmentation.Add(SegmentationStepTimes.Read(r));
                    break;
                case "student_step":
                    students.Add(StudentStepTimes.Read(r));
                    break;
            }
        }
        process.WaitForExit();
        if (process.ExitCode != 0) Console.Error.WriteLine($"bench: bench_torch.py ({python.Label}) exited with {process.ExitCode}");
        return new PyTorchResults(torch, pairs, methodSteps, head, segmentation, students);
    }

    /// <summary>Runs e2e_torch.py (the recipe of <see cref="EndToEndBenchmark"/>); null when it failed.</summary>
    public static PyTorchEndToEnd? EndToEnd(BenchOptions o, PythonTorch python)
    {
        var start = python.Start("e2e_torch.py");
        foreach (var (flag, value) in new[]
                 {
                     ("--threads", o.Threads), ("--epochs", EndToEndBenchmark.Epochs), ("--train", EndToEndBenchmark.TrainCount),
                     ("--test", EndToEndBenchmark.TestCount), ("--classes", EndToEndBenchmark.Classes), ("--batch", EndToEndBenchmark.BatchSize),
                 })
        {
            start.ArgumentList.Add(flag);
            start.ArgumentList.Add(value.ToString(CultureInfo.InvariantCulture));
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        PyTorchEndToEnd? result = null;
        foreach (var r in JsonLines(process))
            result = new PyTorchEndToEnd(r.GetProperty("torch").GetString()!, r.GetProperty("total_s").GetDouble(), r.GetProperty("peak_rss_mb").GetDouble(),
                r.GetProperty("teacher_forward_s").GetDouble(), r.TryGetProperty("cpu_s", out var cpu) ? cpu.GetDouble() : double.NaN);
        process.WaitForExit();
        if (process.ExitCode != 0) Console.Error.WriteLine($"bench: e2e_torch.py ({python.Label}) exited with {process.ExitCode}");
        return process.ExitCode == 0 ? result : null;
    }

    /// <summary>Echoes a PyTorch script's output as it comes and yields its JSON lines (the results).</summary>
    private static IEnumerable<JsonElement> JsonLines(Process process)
    {
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            Console.WriteLine(line);
            if (!line.StartsWith('{')) continue;
            using var doc = JsonDocument.Parse(line);
            yield return doc.RootElement.Clone();
        }
    }

    public static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KdTools.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("KdTools.sln not found above the benchmark binaries");
    }
}
