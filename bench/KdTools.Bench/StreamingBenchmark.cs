using System.Diagnostics;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// Streaming data against the training step that consumes it: a Tiny-ImageNet-shaped synthetic JPEG folder (200
/// classes, 64 px; <c>bench/data/make_image_folder.py</c>, written once under /tmp) read as a streamed dataset, and the
/// shard folder converted from it. One epoch of each is timed through the engine's loader (prefetching workers) and the
/// standard augmentation (pad-4 crop, flip, normalise) a training step applies; the rate is set against the images per
/// second a resnet18 CE training step at 64 px consumes on the same machine (its fastest step, so the ratio errs low).
/// Memory: the prefetch queue's bound and the process's peak working set after both epochs (runtime and libtorch
/// included, before the resnet18 step).
/// </summary>
internal static class StreamingBenchmark
{
    private const int Classes = 200, Side = 64;

    public static IEnumerable<Dictionary<string, object>> Run(BenchOptions o)
    {
        int perClass = Math.Max(1, o.StreamImages / Classes);
        var folder = Path.Combine(Path.GetTempPath(), $"kdtools-bench-tiny-{Classes}x{perClass}");
        var clock = Stopwatch.StartNew();
        MakeFolder(folder, perClass);
        Console.Error.WriteLine($"bench: streaming folder {folder} ready in {clock.Elapsed.TotalSeconds:F0} s");
        var streaming = new StreamingOptions(Environment.ProcessorCount);

        clock.Restart();
        using var streamed = ImageFolderReader.Read(folder, Side, DatasetLoading.Streamed, streaming);
        double openSeconds = clock.Elapsed.TotalSeconds;
        var folderRate = Epoch(streamed, o.BatchSize);

        var shardFolder = folder + "-shard";
        clock.Restart();
        ShardFile.WriteDataset(shardFolder, streamed);
        double convertSeconds = clock.Elapsed.TotalSeconds;
        using var shard = DatasetFormatRegistry.Get("Shard").Read(shardFolder, new DatasetReadOptions(Loading: DatasetLoading.Streamed, Streaming: streaming));
        var shardRate = Epoch(shard, o.BatchSize);
        // Before the resnet18 step, whose activations at 64 px dwarf what streaming holds.
        double peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / (double)(1 << 20);

        var (step, stepThreads) = Resnet18Step(o);
        double consumed = o.BatchSize / (step.MinMs / 1000);
        double boundMb = (double)streaming.PrefetchBatches * o.BatchSize * 3 * Side * Side / (1 << 20);
        foreach (var (source, rate, setup) in new[] { ("image_folder_jpeg", folderRate, openSeconds), ("shard", shardRate, convertSeconds) })
        {
            var record = new Dictionary<string, object>
            {
                ["framework"] = "kdtools", ["bench"] = "streaming", ["source"] = source, ["images"] = streamed.Train.Count,
                ["side"] = Side, ["batch"] = o.BatchSize, ["workers"] = streaming.Workers,
                ["decode_images_per_s"] = Math.Round(rate.Decode, 1),
                ["decode_augment_images_per_s"] = Math.Round(rate.DecodeAugment, 1),
                ["resnet18_step_min_ms"] = Math.Round(step.MinMs, 1), ["resnet18_step_ms"] = Math.Round(step.MedianMs, 1),
                ["resnet18_images_per_s"] = Math.Round(consumed, 1), ["resnet18_threads"] = stepThreads,
                ["ratio_to_consumption"] = Math.Round(rate.DecodeAugment / consumed, 1),
                ["prefetch_bound_mb"] = Math.Round(boundMb, 1),
                ["peak_working_set_mb"] = Math.Round(peakMb),
                [source == "shard" ? "convert_s" : "open_s"] = Math.Round(setup, 1),
            };
            yield return record;
        }
    }

    /// <summary>The folder at <paramref name="folder"/>, generated once (the generator is seeded, so a kept one is the same).</summary>
    private static void MakeFolder(string folder, int perClass)
    {
        if (Directory.Exists(Path.Combine(folder, "val"))) return;
        var script = Path.Combine(AppContext.BaseDirectory, "make_image_folder.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { ArgumentList = { script, folder, "--classes", $"{Classes}",
            "--train-per-class", $"{perClass}", "--val-per-class", "1", "--side", $"{Side}" } };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed with exit code {process.ExitCode}");
    }

    /// <summary>Images per second of one shuffled epoch: loading alone, then loading and augmenting each batch.</summary>
    private static (double Decode, double DecodeAugment) Epoch(KdDataset data, int batchSize)
    {
        double Pass(bool augment)
        {
            using var loader = new BatchLoader(data.Train, batchSize, shuffle: true);
            using var generator = new Generator(1);
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                var order = loader.EpochOrder(augment ? 2 : 1);
                for (int b = 0; b < loader.BatchCount; b++)
                {
                    using var batchScope = NewDisposeScope();
                    var batch = loader.GetBatch(order, b);
                    if (augment) BatchAugmentation.Prepare(batch.Images, data.Mean, data.Std, AugmentationPolicy.Standard, generator);
                }
            }
            return data.Train.Count / clock.Elapsed.TotalSeconds;
        }
        return (Pass(augment: false), Pass(augment: true));
    }

    /// <summary>
    /// A resnet18 CE training step on a 64 px batch, as the engine runs it (without loading the batch), with the bench's
    /// threads and with one: the faster (on a loaded machine extra threads can only wait), so the consumption errs high.
    /// </summary>
    private static (Timing Step, int Threads) Resnet18Step(BenchOptions o)
    {
        torch.manual_seed(0);
        using var student = ArchitectureRegistry.Create("resnet18", Classes);
        using var sgd = TrainingStep.Optimizer(new TrainingSettings(), student);
        using var ce = MethodRegistry.Create("CE");
        using var batch = new BenchBatch(o.BatchSize, Classes, Side);
        student.train();
        var step = new TrainingStep(student, teacher: null, ce, sgd);
        var timings = o.Threads == 1 ? [1] : new[] { o.Threads, 1 };
        var fastest = timings.Select(threads =>
        {
            torch.set_num_threads(threads);
            return (Step: Timing.Of(Math.Min(o.Warmup, 1), Math.Min(o.Iterations, 2), () => step.Run(batch)), Threads: threads);
        }).MinBy(t => t.Step.MinMs);
        torch.set_num_threads(o.Threads);
        return fastest;
    }
}
