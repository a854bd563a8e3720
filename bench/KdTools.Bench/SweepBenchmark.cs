using System.Diagnostics;
using KdTools.Core.Data;
using KdTools.Core.Training;

namespace KdTools.Bench;

/// <summary>
/// A sweep's throughput: N short runs (N = the machine's cores; resnet8 with CE on a small synthetic set) one after
/// another, with all cores' threads or one thread each, against the same N runs in parallel in one process with one
/// thread each, as <c>examples/parallel-sweep.ps1</c> runs them (ForEach-Object -Parallel runspaces are threads of one
/// process). The parallel runs must give each row's top-1 and loss bit for bit as the one-thread sequential runs do.
/// </summary>
internal static class SweepBenchmark
{
    public static Dictionary<string, object> Run(BenchOptions o)
    {
        int runs = Environment.ProcessorCount;
        using var data = SyntheticDataset.Create(new SyntheticDatasetOptions { Classes = 10, TrainCount = o.SweepImages, TestCount = 256, ImageSize = 16 });
        TrainingSettings Settings(int seed, int threads) => new()
        {
            Epochs = 2, BatchSize = 64, LearningRate = 0.05, Seed = seed, Threads = threads, EvaluateEvery = 1,
        };
        (double Top1, double Loss) Train(int seed, int threads)
        {
            var result = Distillation.Run(new DistillationRequest
            {
                Dataset = data, StudentArchitecture = "resnet8", MethodName = "CE", Settings = Settings(seed, threads),
            });
            using var network = result.Network;
            return (result.Top1, result.History[^1].TrainLoss);
        }
        Train(0, 1); // warm-up: first-call costs (native library, kernels) belong to no mode

        // Wall-clock seconds and the cores the process got meanwhile (CPU seconds over wall seconds): on a machine other
        // work keeps busy, the second says whether parallel runs had cores to run on.
        (double Seconds, double Cores, T Result) Measure<T>(Func<T> work)
        {
            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var result = work();
            process.Refresh();
            double seconds = clock.Elapsed.TotalSeconds;
            return (seconds, (process.TotalProcessorTime - cpu).TotalSeconds / seconds, result);
        }
        (double, double)[] Sequential(int threads) => Enumerable.Range(1, runs).Select(seed => Train(seed, threads)).ToArray();
        var allCores = Measure(() => Sequential(runs));
        var oneThread = Measure(() => Sequential(1));
        var parallel = Measure(() =>
        {
            var tasks = Enumerable.Range(1, runs).Select(seed => Task.Run(() => Train(seed, 1))).ToArray();
            Task.WaitAll(tasks);
            return tasks.Select(t => t.Result).ToArray();
        });

        double best = Math.Min(allCores.Seconds, oneThread.Seconds);
        return new Dictionary<string, object>
        {
            ["framework"] = "kdtools", ["bench"] = "sweep", ["runs"] = runs, ["run"] = $"resnet8 CE, {o.SweepImages} images 16px, 2 epochs",
            ["sequential_all_threads_s"] = Math.Round(allCores.Seconds, 1), ["sequential_all_threads_cores"] = Math.Round(allCores.Cores, 2),
            ["sequential_one_thread_s"] = Math.Round(oneThread.Seconds, 1), ["sequential_one_thread_cores"] = Math.Round(oneThread.Cores, 2),
            ["parallel_one_thread_s"] = Math.Round(parallel.Seconds, 1), ["parallel_one_thread_cores"] = Math.Round(parallel.Cores, 2),
            ["speedup_vs_best_sequential"] = Math.Round(best / parallel.Seconds, 2),
            ["parallel_identical_to_sequential"] = parallel.Result.SequenceEqual(oneThread.Result),
        };
    }
}
