using System.Diagnostics;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Evaluation;

/// <summary>Inference speed of a network in eval mode under no_grad.</summary>
/// <param name="MillisecondsPerImage">Latency: median wall time of one forward pass of a single image, in ms.</param>
/// <param name="ImagesPerSecond">Throughput: <paramref name="BatchSize"/> ÷ the median wall time of one forward pass of a
/// batch of that size.</param>
/// <param name="BatchSize">Images per forward pass in the throughput measurement.</param>
public sealed record LatencyResult(double MillisecondsPerImage, double ImagesPerSecond, int BatchSize);

/// <summary>
/// Times forward passes on random inputs of the model's input shape. Each input shape is warmed up on its own first
/// (the first passes of a new shape pay for allocator growth and kernel selection), then single-image and batched
/// passes alternate, so a change in the machine's load affects both numbers alike.
/// </summary>
internal static class LatencyMeter
{
    private const int MinimumWarmupPasses = 3;
    private static readonly TimeSpan MinimumWarmup = TimeSpan.FromMilliseconds(250);

    /// <param name="rounds">Timed passes of each shape (one single-image and one batched pass per round).</param>
    public static LatencyResult Measure(ClassifierNet model, int channels, int height, int width, Device device,
        int batchSize = 64, int rounds = 11)
    {
        if (batchSize < 1 || rounds < 1)
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"timing needs a batch size and a number of rounds of at least 1, got {batchSize} and {rounds}", batchSize);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            // Its own generator: a measurement must not take numbers from libtorch's global one while a run in another
            // runspace builds its modules from it.
            using var random = new Generator(0);
            using var single = randn([1, channels, height, width], generator: random).to(device);
            using var batch = randn([batchSize, channels, height, width], generator: random).to(device);
            WarmUp(model, single);
            WarmUp(model, batch);
            var singleMs = new double[rounds];
            var batchMs = new double[rounds];
            for (int round = 0; round < rounds; round++)
            {
                singleMs[round] = TimeOnePass(model, single);
                batchMs[round] = TimeOnePass(model, batch);
            }
            // Timing noise is far above these digits; rounding keeps tables and CSV cells readable.
            return new LatencyResult(Math.Round(Median(singleMs), 4), Math.Round(batchSize / (Median(batchMs) / 1000.0), 1), batchSize);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static void WarmUp(ClassifierNet model, Tensor input)
    {
        var clock = Stopwatch.StartNew();
        for (int pass = 0; pass < MinimumWarmupPasses || clock.Elapsed < MinimumWarmup; pass++)
            TimeOnePass(model, input);
    }

    private static double TimeOnePass(ClassifierNet model, Tensor input)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        model.Run(input);
        if (input.device.type == DeviceType.CUDA) cuda.synchronize();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
