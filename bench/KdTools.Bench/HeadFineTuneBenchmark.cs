using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Bench;

/// <summary>
/// Add-IntermediateHead's cost: one step of HeadFineTuning's objective (linear heads after every stage, trained with CE,
/// on a backbone frozen with requires_grad off and in eval mode) against one CE training step of the same network.
/// </summary>
internal static class HeadFineTuneBenchmark
{
    public const string Network = MethodStepBenchmark.Teacher;

    public static HeadFineTuneTimes Run(BenchOptions o)
    {
        using var batch = new BenchBatch(o.BatchSize, o.Classes);
        Timing headStep, trainStep;

        torch.manual_seed(0);
        var backbone = ArchitectureRegistry.Create(Network, o.Classes);
        var heads = LinearStageHeads.For(backbone, Enumerable.Range(1, backbone.StageCount).ToArray(), 3, 32, 32);
        using (var model = new MultiExitNet(backbone, heads))
        using (var objective = new HeadFineTuning.HeadCrossEntropy())
        {
            foreach (var p in backbone.parameters()) p.requires_grad_(false);
            model.train();
            backbone.eval();
            using var sgd = TrainingStep.Optimizer(HeadFineTuning.DefaultSettings(epochs: 1), model);
            var step = new TrainingStep(model, teacher: null, objective, sgd);
            headStep = Timing.Of(o.MethodWarmup, o.MethodIterations, () => step.Run(batch));
        }

        torch.manual_seed(0);
        using (var network = ArchitectureRegistry.Create(Network, o.Classes))
        using (var ce = MethodRegistry.Create("CE"))
        {
            network.train();
            using var sgd = TrainingStep.Optimizer(new TrainingSettings(), network);
            var step = new TrainingStep(network, teacher: null, ce, sgd);
            trainStep = Timing.Of(o.MethodWarmup, o.MethodIterations, () => step.Run(batch));
        }
        return new HeadFineTuneTimes(Network, headStep, trainStep);
    }
}
