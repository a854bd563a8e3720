using System.Diagnostics;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Evaluation;

/// <summary>Inference speed: median latency of one image and throughput at a batch size.</summary>
public sealed record LatencyResult(double MillisecondsPerImage, double ImagesPerSecond, int BatchSize);

public static class LatencyMeter
{
    /// <summary>Times eval-mode forward passes under no_grad on random inputs of the model's input shape.</summary>
    public static LatencyResult Measure(ClassifierNet model, int channels, int height, int width, Device device,
        int batchSize = 64, int warmup = 3, int iterations = 15)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            // Its own generator: a measurement must not take numbers from libtorch's global one while a run in another
            // runspace builds its modules from it.
            using var random = new Generator(0);
            double single = MedianMs(model, torch.randn([1, channels, height, width], generator: random).to(device), warmup, iterations);
            double batch = MedianMs(model, torch.randn([batchSize, channels, height, width], generator: random).to(device), 1, Math.Max(3, iterations / 3));
            // Timing noise is far above these digits; rounding keeps tables and CSV cells readable.
            return new LatencyResult(Math.Round(single, 4), Math.Round(batchSize / (batch / 1000.0), 1), batchSize);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static double MedianMs(ClassifierNet model, Tensor input, int warmup, int iterations)
    {
        using (input)
        {
            var times = new double[iterations];
            for (int i = -warmup; i < iterations; i++)
            {
                using var scope = torch.NewDisposeScope();
                var clock = Stopwatch.StartNew();
                model.Run(input);
                if (input.device.type == DeviceType.CUDA) torch.cuda.synchronize();
                if (i >= 0) times[i] = clock.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            return times[iterations / 2];
        }
    }
}
