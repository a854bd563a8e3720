using KdTools.Core.Checkpoints;
using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Export;
using KdTools.Core.Models;
using TorchSharp;

namespace KdTools.Bench;

/// <summary>
/// Where a student will run: single-image latency and batch-64 throughput of the CIFAR students in ONNX Runtime vs
/// TorchSharp eval (what Measure-Student times: <see cref="LatencyMeter"/>), at one thread and at every core. Goal: ONNX
/// Runtime's single-image latency at most half TorchSharp's. Prints a table.
/// </summary>
internal static class OnnxBenchmark
{
    private static readonly string[] Students = ["resnet8", "resnet20", "MobileNetV2", "ShuffleV2", "wrn_16_1"];

    public static void Run(BenchOptions options)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"kdtools-onnx-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var rounds = Math.Max(options.Iterations, 3);
        var threadCounts = new[] { 1, Environment.ProcessorCount }.Distinct().ToArray();
        Console.WriteLine($"ONNX Runtime vs TorchSharp eval, 3x32x32 inputs, {options.Classes} classes, median of {rounds} passes " +
                          $"(latency: 1 image; throughput: batch {options.BatchSize}); ratio = ORT/TorchSharp latency, goal <= 0.5");
        Console.WriteLine($"{"student",-12} {"threads",7} {"TorchSharp ms",13} {"ORT ms",8} {"ratio",6} {"TorchSharp img/s",16} {"ORT img/s",10}");
        try
        {
            foreach (var student in Students)
            {
                using var network = ArchitectureRegistry.Create(student, options.Classes, seed: 1);
                network.eval();
                network.InputSize = new ImageSize(32, 32);
                network.Normalization = new InputNormalization([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
                var path = Path.Combine(folder, $"{student}.onnx");
                OnnxExport.Save(path, network, new ModelProvenance(), new OnnxExportOptions());
                foreach (int threads in threadCounts)
                {
                    torch.set_num_threads(threads);
                    var torchSpeed = LatencyMeter.Measure(network, 3, 32, 32, torch.CPU, options.BatchSize, rounds);
                    using var onnx = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path, Threads = threads });
                    var onnxSpeed = LatencyMeter.Measure(onnx, 3, 32, 32, torch.CPU, options.BatchSize, rounds);
                    Console.WriteLine($"{student,-12} {threads,7} {torchSpeed.MillisecondsPerImage,13:F3} {onnxSpeed.MillisecondsPerImage,8:F3} " +
                                      $"{onnxSpeed.MillisecondsPerImage / torchSpeed.MillisecondsPerImage,6:F2} {torchSpeed.ImagesPerSecond,16:F0} {onnxSpeed.ImagesPerSecond,10:F0}");
                }
            }
        }
        finally
        {
            torch.set_num_threads(options.Threads);
            Directory.Delete(folder, recursive: true);
        }
    }
}
