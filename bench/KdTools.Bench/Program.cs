using System.Text.Json;
using KdTools.Bench;
using KdTools.Core;
using TorchSharp;

// ./build.sh bench [--quick] [--no-pytorch] [--iters N] [--warmup N] [--method-iters N] [--method-warmup N] [--methods A,B] [--threads N]
// Prints JSON lines: KdTools' measurements, then PyTorch's (bench_torch.py), then KdTools/PyTorch ratios. See bench/README.md.
// ./build.sh onnx-check: the ONNX files of every architecture checked by Python's onnx and onnxruntime (not a benchmark).
if (args.Length == 2 && args[0] == "onnx-check") return OnnxCheck.Run(args[1]);

BenchOptions options;
IReadOnlyList<string> methodNames;
try
{
    options = BenchOptions.Parse(args);
    methodNames = MethodStepBenchmark.MethodNames(options.Methods);
}
catch (Exception e) when (e is ArgumentException or FormatException or KdException)
{
    Console.Error.WriteLine($"bench: {e.Message}");
    return 2;
}
Console.Error.WriteLine(
    $"bench: <key>_ms = median, <key>_min_ms = fastest step, on random {options.BatchSize}x3x32x32 batches, {options.Classes} classes, {options.Threads} threads; " +
    "lines: per pair ce_step/kd_step/teacher_eval; method_step = one training step of each method, resnet20 from resnet56, ratio_to_kd vs KD; " +
    "head_finetune = DIH head step on frozen resnet56 vs its CE step; segmentation_step = SKD step vs CE step of pspnet_resnet18_w8 and the critic's share; " +
    "augmentation = one uint8 batch through an augmentation; " +
    "streaming = images/s of a streamed 64px folder and its shard (load, + crop/flip/normalise) vs a resnet18 64px step's consumption; " +
    "sweep = N runs in parallel vs sequentially; ratio lines = kdtools/pytorch (>1: KdTools slower)" +
    (options.SkipPyTorch ? "; PyTorch skipped" : ""));
torch.set_num_threads(options.Threads);

static void Print(Dictionary<string, object> record) => Console.WriteLine(JsonSerializer.Serialize(record));

// First, so that the process's peak working set is the whole run's.
var endToEnd = options.Runs("end-to-end") ? EndToEndBenchmark.Run(options) : null;
if (endToEnd is not null) Print(endToEnd);
if (options.Runs("augmentation"))
    foreach (var augmentation in AugmentationBenchmark.Run(options)) Print(augmentation);

var pairs = new List<StepTimes>();
if (options.Runs("pairs"))
    foreach (var (student, teacher) in new[] { ("resnet8", "resnet56"), ("resnet20", "resnet56"), ("resnet20", "resnet110") })
    {
        var times = StepBenchmark.Run(student, teacher, options);
        pairs.Add(times);
        Print(times.ToJson("kdtools"));
    }
var methods = new List<MethodStepTime>();
if (options.Runs("methods"))
    foreach (var step in MethodStepBenchmark.Run(options, methodNames))
    {
        methods.Add(step);
        Print(step.ToJson("kdtools"));
    }
var head = options.Runs("head") ? HeadFineTuneBenchmark.Run(options) : null;
if (head is not null) Print(head.ToJson("kdtools"));
if (options.Runs("segmentation")) Print(SegmentationStepBenchmark.Run(options));
if (options.Runs("streaming"))
    foreach (var streaming in StreamingBenchmark.Run(options)) Print(streaming);
if (options.Runs("sweep")) Print(SweepBenchmark.Run(options));
if (options.Runs("onnx")) OnnxBenchmark.Run(options);

if (options.SkipPyTorch) return 0;
var root = PyTorchReference.FindRepositoryRoot();
foreach (var python in PythonTorch.Available(root))
{
    var theirEndToEnd = endToEnd is null ? null : PyTorchReference.EndToEnd(options, python);
    if (endToEnd is not null && theirEndToEnd is not null)
        Print(new Dictionary<string, object>
        {
            ["ratio"] = "kdtools/pytorch", ["bench"] = "end_to_end", ["python"] = python.Label, ["torch"] = theirEndToEnd.Torch,
            ["total"] = Math.Round((double)endToEnd["total_s"] / theirEndToEnd.TotalSeconds, 3),
            ["peak_working_set"] = Math.Round((double)endToEnd["peak_working_set_mb"] / theirEndToEnd.PeakMb, 3),
        });
    if (!options.Runs("pairs") && !options.Runs("methods") && !options.Runs("head")) continue;
    var theirs = PyTorchReference.Run(options, methodNames, python);
    foreach (var mine in pairs)
    {
        var reference = theirs.Pairs.FirstOrDefault(t => t.Student == mine.Student && t.Teacher == mine.Teacher);
        if (reference is null)
        {
            Console.Error.WriteLine($"bench: no PyTorch result ({python.Label}) for {mine.Student}/{mine.Teacher}");
            continue;
        }
        var ratio = new Dictionary<string, object>
        {
            ["ratio"] = "kdtools/pytorch", ["python"] = python.Label, ["torch"] = theirs.Torch, ["student"] = mine.Student, ["teacher"] = mine.Teacher,
        };
        mine.CeStep.Over(reference.CeStep).Add(ratio, "ce_step");
        mine.KdStep.Over(reference.KdStep).Add(ratio, "kd_step");
        mine.TeacherEval.Over(reference.TeacherEval).Add(ratio, "teacher_eval");
        Print(ratio);
    }
    foreach (var mine in methods)
    {
        if (!theirs.Methods.TryGetValue(mine.Method, out var reference)) continue;
        var ratio = new Dictionary<string, object> { ["ratio"] = "kdtools/pytorch", ["python"] = python.Label, ["torch"] = theirs.Torch, ["method"] = mine.Method };
        mine.Step.Over(reference.Step).Add(ratio, "step");
        mine.RatioToKd.Over(reference.RatioToKd).Add(ratio, "ratio_to_kd");
        Print(ratio);
    }
    if (head is not null && theirs.HeadFineTune is { } theirHead)
    {
        var ratio = new Dictionary<string, object> { ["ratio"] = "kdtools/pytorch", ["python"] = python.Label, ["torch"] = theirs.Torch, ["bench"] = "head_finetune" };
        head.HeadStep.Over(theirHead.HeadStep).Add(ratio, "head_step");
        head.TrainStep.Over(theirHead.TrainStep).Add(ratio, "train_step");
        Print(ratio);
    }
}
return 0;
