using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KdTools.Bench;
using KdTools.Core;
using TorchSharp;

// ./build.sh bench [--quick] [--no-pytorch] [--threads 1,2,N] [--rounds N] [--torch-1.13] [--iters N] [--warmup N] [--method-iters N] [--method-warmup N] [--methods A,B] [--parts ...]
// Per thread count: KdTools' measurements, then PyTorch's (bench_torch.py, e2e_torch.py), alternated --rounds times,
// then one ratio table for that count. Prints JSON lines and the tables. See bench/README.md.
// ./build.sh onnx-check: the ONNX files of every architecture checked by Python's onnx and onnxruntime (not a benchmark).
if (args.Length == 2 && args[0] == "onnx-check") return OnnxCheck.Run(args[1]);
// ./build.sh bench skd-parity: the segmentation rows' two sides compute the same losses (not a benchmark).
if (args.Length == 1 && args[0] == "skd-parity") return SkdParity.Run();
// The end-to-end recipe in a process of its own (started by the bench), so that its peak resident set is the recipe's.
if (args.Length == 2 && args[0] == "e2e-child")
{
    int childThreads = int.Parse(args[1], CultureInfo.InvariantCulture);
    torch.set_num_threads(childThreads);
    var childOptions = BenchOptions.Parse(["--threads", args[1], "--parts", "end-to-end"]);
    Console.WriteLine(JsonSerializer.Serialize(EndToEndBenchmark.Run(childOptions)));
    return 0;
}

BenchOptions options;
IReadOnlyList<string> methodNames;
try
{
    options = BenchOptions.Parse(args);
    // By default the methods PyTorch has a formulation of (bench_torch.py); --methods all: every registered method.
    methodNames = MethodStepBenchmark.MethodNames(
        options.Methods is ["all"] ? null : options.Methods ?? PyTorchReference.ReferencedMethods.ToList());
}
catch (Exception e) when (e is ArgumentException or FormatException or KdException)
{
    Console.Error.WriteLine($"bench: {e.Message}");
    return 2;
}
Console.Error.WriteLine(
    $"bench: <key>_ms = median, <key>_min_ms = fastest step, on random {options.BatchSize}x3x32x32 batches, {options.Classes} classes, " +
    $"threads {string.Join(",", options.ThreadCounts)} (each side by side with PyTorch, {options.Rounds} round(s)); " +
    "lines: per pair ce_step/kd_step/teacher_eval; end_to_end = the whole recipe in a process of its own (peak = VmHWM); " +
    "method_step = one training step of each method, resnet20 from resnet56, ratio_to_kd vs KD; " +
    "head_finetune = DIH head step on frozen resnet56 vs its CE step; segmentation_step = CE, SKD pixel+pair and full SKD steps of pspnet_resnet18_w8 at 64 and 512 px, with the critic's share; " +
    "augmentation = one uint8 batch through an augmentation; " +
    "streaming = images/s of a streamed 64px folder and its shard (load, + crop/flip/normalise) vs a resnet18 64px step's consumption; " +
    "sweep = N runs in parallel vs sequentially; ratio lines = kdtools/pytorch (>1: KdTools slower)" +
    (options.SkipPyTorch ? "; PyTorch skipped" : ""));

static void Print(Dictionary<string, object> record) => Console.WriteLine(JsonSerializer.Serialize(record));

var pythons = new List<PythonTorch>();
if (!options.SkipPyTorch)
{
    var available = PythonTorch.Available(PyTorchReference.FindRepositoryRoot(), options.RepDistiller);
    // PyTorch 2.6 is the reference; 1.13 on request (it doubles the PyTorch side's time), or where 2.6 is missing.
    pythons.AddRange(available.Where(p => p.Label == "debian13" || options.WithTorch113));
    if (pythons.Count == 0) pythons.AddRange(available);
}

foreach (int threads in options.ThreadCounts)
{
    var o = options with { Threads = threads };
    var table = new RatioTable(threads);
    for (int round = 1; round <= o.Rounds; round++)
    {
        torch.set_num_threads(threads);
        var mine = KdToolsSide.Measure(o, methodNames, round);
        foreach (var python in pythons) PyTorchSide.Compare(o, methodNames, python, mine, table, round);
        GC.Collect();
    }
    table.Print();
}

// The KdTools-only parts, once, at the largest thread count.
torch.set_num_threads(options.Threads);
if (options.Runs("augmentation"))
    foreach (var augmentation in AugmentationBenchmark.Run(options)) Print(augmentation);
if (options.Runs("streaming"))
    foreach (var streaming in StreamingBenchmark.Run(options)) Print(streaming);
if (options.Runs("sweep")) Print(SweepBenchmark.Run(options));
if (options.Runs("onnx")) OnnxBenchmark.Run(options);
return 0;

namespace KdTools.Bench
{
    /// <summary>What KdTools measured at one thread count in one round.</summary>
    internal sealed record KdToolsRound(
        Dictionary<string, JsonElement>? EndToEnd, List<StepTimes> Pairs, List<MethodStepTime> Methods, HeadFineTuneTimes? Head,
        List<SegmentationStepTimes> Segmentation, List<StudentStepTimes> Students);

    internal static class KdToolsSide
    {
        public static KdToolsRound Measure(BenchOptions o, IReadOnlyList<string> methodNames, int round)
        {
            void Print(Dictionary<string, object> record)
            {
                record["round"] = round;
                Console.WriteLine(JsonSerializer.Serialize(record));
            }
            var endToEnd = o.Runs("end-to-end") ? EndToEndInChild(o) : null;
            if (endToEnd is not null) Console.WriteLine(JsonSerializer.Serialize(endToEnd));
            var pairs = new List<StepTimes>();
            if (o.Runs("pairs"))
                foreach (var (student, teacher) in new[] { ("resnet8", "resnet56"), ("resnet20", "resnet56"), ("resnet20", "resnet110") })
                {
                    var times = StepBenchmark.Run(student, teacher, o);
                    pairs.Add(times);
                    Print(times.ToJson("kdtools"));
                }
            var methods = new List<MethodStepTime>();
            if (o.Runs("methods"))
                foreach (var step in MethodStepBenchmark.Run(o, methodNames))
                {
                    methods.Add(step);
                    var record = step.ToJson("kdtools");
                    record["threads"] = o.Threads;
                    Print(record);
                }
            var head = o.Runs("head") ? HeadFineTuneBenchmark.Run(o) : null;
            if (head is not null) Print(head.ToJson("kdtools"));
            var segmentation = new List<SegmentationStepTimes>();
            if (o.Runs("segmentation"))
                foreach (var step in SegmentationStepBenchmark.Run(o))
                {
                    segmentation.Add(step);
                    Print(step.ToJson("kdtools", o.Threads));
                }
            var students = new List<StudentStepTimes>();
            if (o.Runs("students"))
                foreach (var step in StudentStepBenchmark.Run(o))
                {
                    students.Add(step);
                    Print(step.ToJson("kdtools"));
                }
            return new KdToolsRound(endToEnd, pairs, methods, head, segmentation, students);
        }

        /// <summary>
        /// Runs the end-to-end recipe in a new process of this benchmark (<c>e2e-child</c>), so that its peak resident
        /// set (VmHWM) is the recipe's alone, as e2e_torch.py's is, .NET's start-up included; null when it failed.
        /// </summary>
        private static Dictionary<string, JsonElement>? EndToEndInChild(BenchOptions o)
        {
            var self = Environment.ProcessPath ?? "dotnet";
            var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(KdToolsSide).Assembly.Location);
            start.ArgumentList.Add("e2e-child");
            start.ArgumentList.Add(o.Threads.ToString(CultureInfo.InvariantCulture));
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {self}");
            Dictionary<string, JsonElement>? record = null;
            string? line;
            while ((line = process.StandardOutput.ReadLine()) is not null)
                if (line.StartsWith('{')) record = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line);
            process.WaitForExit();
            if (process.ExitCode == 0) return record;
            Console.Error.WriteLine($"bench: the end-to-end child process exited with {process.ExitCode}");
            return null;
        }
    }

    internal static class PyTorchSide
    {
        private static void Print(Dictionary<string, object> record) => Console.WriteLine(JsonSerializer.Serialize(record));

        /// <summary>Runs PyTorch's side at <paramref name="o"/>'s thread count, prints the ratio lines and adds them to <paramref name="table"/>.</summary>
        public static void Compare(BenchOptions o, IReadOnlyList<string> methodNames, PythonTorch python, KdToolsRound mine, RatioTable table, int round)
        {
            Dictionary<string, object> Ratio(string torchVersion) => new()
            {
                ["ratio"] = "kdtools/pytorch", ["python"] = python.Label, ["torch"] = torchVersion, ["threads"] = o.Threads, ["round"] = round,
            };
            if (mine.EndToEnd is { } endToEnd && PyTorchReference.EndToEnd(o, python) is { } theirs)
            {
                double total = endToEnd["total_s"].GetDouble(), peak = endToEnd["peak_resident_mb"].GetDouble();
                var ratio = Ratio(theirs.Torch);
                ratio["bench"] = "end_to_end";
                ratio["total"] = Math.Round(total / theirs.TotalSeconds, 3);
                ratio["peak_resident"] = Math.Round(peak / theirs.PeakMb, 3);
                Print(ratio);
                table.Add(python, theirs.Torch, round, "whole run (s)", total, theirs.TotalSeconds,
                    endToEnd.TryGetValue("cpu_s", out var cpu) ? cpu.GetDouble() : double.NaN, theirs.CpuSeconds);
                table.Add(python, theirs.Torch, round, "whole run: teacher forward (s)", endToEnd["teacher_forward_s"].GetDouble(), theirs.TeacherForwardSeconds);
                table.Add(python, theirs.Torch, round, "whole run: peak resident (MB)", peak, theirs.PeakMb, goal: 1.2);
            }
            if (mine.Pairs.Count == 0 && mine.Methods.Count == 0 && mine.Head is null && mine.Segmentation.Count == 0 && mine.Students.Count == 0) return;
            var reference = PyTorchReference.Run(o, methodNames, python);
            foreach (var pair in mine.Pairs)
            {
                var their = reference.Pairs.FirstOrDefault(t => t.Student == pair.Student && t.Teacher == pair.Teacher);
                if (their is null)
                {
                    Console.Error.WriteLine($"bench: no PyTorch result ({python.Label}) for {pair.Student}/{pair.Teacher}");
                    continue;
                }
                var ratio = Ratio(reference.Torch);
                ratio["student"] = pair.Student;
                ratio["teacher"] = pair.Teacher;
                pair.CeStep.Over(their.CeStep).Add(ratio, "ce_step");
                pair.KdStep.Over(their.KdStep).Add(ratio, "kd_step");
                pair.TeacherEval.Over(their.TeacherEval).Add(ratio, "teacher_eval");
                Print(ratio);
                string name = $"{pair.Student}/{pair.Teacher}";
                table.Add(python, reference.Torch, round, $"{name} kd_step (ms)", pair.KdStep, their.KdStep);
                table.Add(python, reference.Torch, round, $"{name} ce_step (ms)", pair.CeStep, their.CeStep);
                table.Add(python, reference.Torch, round, $"{name} teacher_eval (ms)", pair.TeacherEval, their.TeacherEval);
                table.Add(python, reference.Torch, round, $"{name} teacher share of kd_step",
                    pair.TeacherEval.MedianMs / pair.KdStep.MedianMs, their.TeacherEval.MedianMs / their.KdStep.MedianMs,
                    pair.TeacherEval.CpuMs / pair.KdStep.CpuMs, their.TeacherEval.CpuMs / their.KdStep.CpuMs, goal: null);
            }
            foreach (var method in mine.Methods)
            {
                if (!reference.Methods.TryGetValue(method.Method, out var their)) continue;
                var ratio = Ratio(reference.Torch);
                ratio["method"] = method.Method;
                method.Step.Over(their.Step).Add(ratio, "step");
                method.RatioToKd.Over(their.RatioToKd).Add(ratio, "ratio_to_kd");
                Print(ratio);
                table.Add(python, reference.Torch, round, $"method {method.Method} step (ms)", method.Step, their.Step);
            }
            if (mine.Head is { } head && reference.HeadFineTune is { } theirHead)
            {
                var ratio = Ratio(reference.Torch);
                ratio["bench"] = "head_finetune";
                head.HeadStep.Over(theirHead.HeadStep).Add(ratio, "head_step");
                head.TrainStep.Over(theirHead.TrainStep).Add(ratio, "train_step");
                Print(ratio);
                table.Add(python, reference.Torch, round, "head_finetune head step (ms)", head.HeadStep, theirHead.HeadStep);
            }
            foreach (var step in mine.Segmentation)
            {
                var their = reference.Segmentation.FirstOrDefault(t => t.Side == step.Side);
                if (their is null)
                {
                    Console.Error.WriteLine($"bench: no PyTorch segmentation result ({python.Label}) at {step.Side} px");
                    continue;
                }
                // Both sides must time the same networks (skd-parity checks the losses too).
                if ((step.StudentParameters, step.TeacherParameters, step.CriticParameters) != (their.StudentParameters, their.TeacherParameters, their.CriticParameters))
                    Console.Error.WriteLine($"bench: the segmentation networks differ from PyTorch's ({python.Label}): parameters student/teacher/critic " +
                        $"{step.StudentParameters}/{step.TeacherParameters}/{step.CriticParameters} against {their.StudentParameters}/{their.TeacherParameters}/{their.CriticParameters}");
                var ratio = Ratio(reference.Torch);
                ratio["bench"] = "segmentation_step";
                ratio["side"] = step.Side;
                step.CeStep.Over(their.CeStep).Add(ratio, "ce_step");
                step.PixelPairStep.Over(their.PixelPairStep).Add(ratio, "skd_pixel_pair_step");
                step.SkdStep.Over(their.SkdStep).Add(ratio, "skd_step");
                Print(ratio);
                string name = $"{SegmentationStepBenchmark.Student} {step.Side}px";
                table.Add(python, reference.Torch, round, $"{name} ce_step (ms)", step.CeStep, their.CeStep);
                table.Add(python, reference.Torch, round, $"{name} skd_pixel_pair (ms)", step.PixelPairStep, their.PixelPairStep);
                table.Add(python, reference.Torch, round, $"{name} skd_step (ms)", step.SkdStep, their.SkdStep);
            }
            foreach (var step in mine.Students)
            {
                var their = reference.Students.FirstOrDefault(t => t.Student == step.Student);
                if (their is null)
                {
                    Console.Error.WriteLine($"bench: no PyTorch result ({python.Label}) for the student {step.Student}");
                    continue;
                }
                if (step.Parameters != their.Parameters)
                    Console.Error.WriteLine($"bench: {step.Student} has {step.Parameters} parameters here and {their.Parameters} in PyTorch ({python.Label})");
                var ratio = Ratio(reference.Torch);
                ratio["bench"] = "student_step";
                ratio["student"] = step.Student;
                step.CeStep.Over(their.CeStep).Add(ratio, "ce_step");
                step.Inference.Over(their.Inference).Add(ratio, "inference");
                Print(ratio);
                table.Add(python, reference.Torch, round, $"student {step.Student} ce_step (ms)", step.CeStep, their.CeStep);
                table.Add(python, reference.Torch, round, $"student {step.Student} inference (ms)", step.Inference, their.Inference);
            }
        }
    }

    /// <summary>
    /// One thread count's comparison, printed as a text table: per row the medians over the rounds of KdTools' value,
    /// PyTorch's value and of the rounds' ratios (each round's KdTools and PyTorch measured minutes apart at most), for
    /// wall time and for CPU time (user + system of the whole process: the work, robust to other load on the machine).
    /// </summary>
    internal sealed class RatioTable(int threads)
    {
        private readonly List<(string Python, string Torch, int Round, string Row, double Mine, double Theirs, double MineCpu, double TheirsCpu, double? Goal)> _rows = [];

        /// <param name="goal">The ratio aimed at (0.70 for times); null for rows that are not a ratio goal.</param>
        public void Add(PythonTorch python, string torchVersion, int round, string row, double mine, double theirs,
            double mineCpu = double.NaN, double theirsCpu = double.NaN, double? goal = 0.70) =>
            _rows.Add((python.Label, torchVersion, round, row, mine, theirs, mineCpu, theirsCpu, goal));

        public void Add(PythonTorch python, string torchVersion, int round, string row, Timing mine, Timing theirs) =>
            Add(python, torchVersion, round, row, mine.MedianMs, theirs.MedianMs, mine.CpuMs, theirs.CpuMs);

        public void Print()
        {
            foreach (var byPython in _rows.GroupBy(r => (r.Python, r.Torch)))
            {
                int rounds = byPython.Select(r => r.Round).Distinct().Count();
                Console.WriteLine();
                Console.WriteLine($"== {threads} thread(s): KdTools ÷ PyTorch {byPython.Key.Torch} ({byPython.Key.Python}), median of {rounds} round(s) ==");
                Console.WriteLine($"{"measure",-46} {"KdTools",9} {"PyTorch",9} {"ratio",6} {"goal",5}   {"cpu KdT",9} {"cpu PyT",9} {"ratio",6}");
                foreach (var row in byPython.GroupBy(r => r.Row))
                {
                    double mine = Median(row.Select(r => r.Mine)), theirs = Median(row.Select(r => r.Theirs));
                    double ratio = Median(row.Select(r => r.Mine / r.Theirs));
                    double mineCpu = Median(row.Select(r => r.MineCpu)), theirsCpu = Median(row.Select(r => r.TheirsCpu));
                    double cpuRatio = Median(row.Select(r => r.MineCpu / r.TheirsCpu));
                    var goal = row.First().Goal;
                    string verdict = goal is { } g ? (ratio <= g ? "met" : "no") : "";
                    string cpu = double.IsFinite(cpuRatio)
                        ? string.Create(CultureInfo.InvariantCulture, $"   {Format(mineCpu),9} {Format(theirsCpu),9} {cpuRatio,6:0.000}") : "";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{row.Key,-46} {Format(mine),9} {Format(theirs),9} {ratio,6:0.000} {verdict,5}") + cpu);
                }
                Console.WriteLine();
            }
        }

        private static string Format(double value) =>
            !double.IsFinite(value) ? "-" : value.ToString(value < 10 ? "0.000" : value < 1000 ? "0.0" : "0", CultureInfo.InvariantCulture);

        private static double Median(IEnumerable<double> values) => Timing.Median(values.ToArray());
    }
}
