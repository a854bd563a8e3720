using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KdTools.Bench;

// ./build.sh bench [--iters N] [--warmup N] [--threads N] [--no-pytorch]
// Prints one JSON line per configuration and framework, then one ratio line per configuration (KdTools / PyTorch).
var options = BenchOptions.Parse(args);
var configurations = new[] { ("resnet8", "resnet56"), ("resnet20", "resnet56"), ("resnet20", "resnet110") };
var ours = new List<StepTimes>();
foreach (var (student, teacher) in configurations)
{
    var times = StepBenchmark.Run(student, teacher, options);
    ours.Add(times);
    Console.WriteLine(JsonSerializer.Serialize(times.ToJson("kdtools")));
}

if (options.SkipPyTorch) return 0;
var theirs = PyTorchReference.Run(options);
foreach (var mine in ours)
{
    var reference = theirs.FirstOrDefault(t => t.Student == mine.Student && t.Teacher == mine.Teacher);
    if (reference is null)
    {
        Console.Error.WriteLine($"bench: no PyTorch result for {mine.Student}/{mine.Teacher}");
        continue;
    }
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["ratio"] = "kdtools/pytorch",
        ["student"] = mine.Student,
        ["teacher"] = mine.Teacher,
        ["ce_step"] = Math.Round(mine.CeStepMs / reference.CeStepMs, 3),
        ["kd_step"] = Math.Round(mine.KdStepMs / reference.KdStepMs, 3),
        ["teacher_eval"] = Math.Round(mine.TeacherEvalMs / reference.TeacherEvalMs, 3),
    }));
}
return 0;

namespace KdTools.Bench
{
    internal sealed record BenchOptions(int Warmup, int Iterations, int Threads, int BatchSize, int Classes, bool SkipPyTorch)
    {
        public static BenchOptions Parse(string[] args)
        {
            int Get(string name, int fallback)
            {
                int i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
            }
            return new BenchOptions(Get("--warmup", 5), Get("--iters", 20), Get("--threads", 2), Get("--batch", 64),
                Get("--classes", 100), args.Contains("--no-pytorch"));
        }
    }

    internal sealed record StepTimes(string Student, string Teacher, int Batch, int Threads, double CeStepMs, double KdStepMs, double TeacherEvalMs)
    {
        public Dictionary<string, object> ToJson(string framework) => new()
        {
            ["framework"] = framework,
            ["student"] = Student,
            ["teacher"] = Teacher,
            ["batch"] = Batch,
            ["threads"] = Threads,
            ["ce_step_ms"] = Math.Round(CeStepMs, 2),
            ["kd_step_ms"] = Math.Round(KdStepMs, 2),
            ["teacher_eval_ms"] = Math.Round(TeacherEvalMs, 2),
        };
    }

    internal static class Median
    {
        public static double Of(int warmup, int iterations, Action step)
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
            return iterations % 2 == 1 ? times[iterations / 2] : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
        }
    }
}
