using System.Diagnostics;
using KdTools.Core.Data;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace KdTools.Core.Tests.Training;

public class ScratchTiming(ITestOutputHelper output)
{
    [Fact]
    public void Scratch()
    {
        foreach (var (size, tepochs) in new[] { (32, 5), (32, 8) })
        {
            using var big = SyntheticSegmentation.Create(new SyntheticSegmentationOptions(Classes: 4, TrainCount: 256, TestCount: 32, ImageSize: size, Seed: 3));
            using var small = SyntheticSegmentation.Create(new SyntheticSegmentationOptions(Classes: 4, TrainCount: 48, TestCount: 32, ImageSize: size, Seed: 4));
            var clock = Stopwatch.StartNew();
            var t = Distillation.Run(new DistillationRequest { Dataset = big, StudentArchitecture = "pspnet_resnet18_w8", MethodName = "CE",
                Settings = new TrainingSettings { Epochs = tepochs, BatchSize = 16, LearningRate = 0.05, Schedule = LearningRateSchedule.PolyDecay(), Seed = 5, Threads = 2 } });
            output.WriteLine($"teacher {size}px {tepochs}: miou {t.MeanIoU:F3} in {clock.Elapsed.TotalSeconds:F1}s");
            foreach (var method in new[] { "CE", "PixelKD" })
            {
                clock.Restart();
                var r = Distillation.Run(new DistillationRequest { Dataset = small, StudentArchitecture = "pspnet_resnet18_w8", MethodName = method, Teacher = t.Network,
                    Settings = new TrainingSettings { Epochs = 3, BatchSize = 8, LearningRate = 0.05, Schedule = LearningRateSchedule.PolyDecay(), Seed = 6, Threads = 2 } });
                using var scope = NewDisposeScope();
                var counts = small.Test.Labels.flatten().to_type(ScalarType.Int64).bincount(null, 256).narrow(0, 0, 255);
                var chance = counts[0].item<long>() / (double)counts.sum().item<long>() / counts.gt(0).sum().item<long>();
                output.WriteLine($"  {method}: miou {r.MeanIoU:F3} chance {chance:F3} in {clock.Elapsed.TotalSeconds:F1}s; loss {string.Join(",", r.TrainEpochs.Select(e => e.TrainLoss.ToString("F3")))}");
            }
        }
    }
}
