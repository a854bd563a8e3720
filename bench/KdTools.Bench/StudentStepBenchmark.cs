using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Bench;

/// <summary>
/// The students users distill into, alone: a CE training step (as the engine's step runs it) and inference in eval mode
/// as the engine's evaluation runs it (<see cref="FeatureRequest.RunFrozen"/> asking for the logits only), per student.
/// </summary>
internal static class StudentStepBenchmark
{
    /// <summary>What <c>--parts students</c> measures without <c>--students</c>: the lightweight students and resnet8 as the reference point.</summary>
    public static readonly string[] DefaultStudents = ["resnet8", "ShuffleV1", "ShuffleV2", "MobileNetV2"];

    public static IEnumerable<StudentStepTimes> Run(BenchOptions o)
    {
        using var batch = new BenchBatch(o.BatchSize, o.Classes);
        foreach (var name in o.Students ?? DefaultStudents)
        {
            torch.manual_seed(0);
            using var student = ArchitectureRegistry.Create(name, o.Classes);
            using var sgd = TrainingStep.Optimizer(new TrainingSettings(), student);
            using var ce = MethodRegistry.Create("CE");
            var training = new TrainingStep(student, teacher: null, ce, sgd);
            student.train();
            var ceStep = Timing.Of(o.Warmup, o.Iterations, () => training.Run(batch));
            student.eval();
            var inference = Timing.Of(o.Warmup, o.Iterations, () =>
            {
                using var scope = torch.NewDisposeScope();
                FeatureRequest.RunFrozen(student, batch.Images, []);
            });
            long parameters = student.parameters().Sum(p => p.numel());
            yield return new StudentStepTimes(name, parameters, o.BatchSize, o.Threads, ceStep, inference);
        }
    }
}

/// <summary>One student's CE training step and eval-mode inference.</summary>
internal sealed record StudentStepTimes(string Student, long Parameters, int Batch, int Threads, Timing CeStep, Timing Inference)
{
    public Dictionary<string, object> ToJson(string framework)
    {
        var record = new Dictionary<string, object>
        {
            ["framework"] = framework, ["bench"] = "student_step", ["student"] = Student, ["parameters"] = Parameters,
            ["batch"] = Batch, ["threads"] = Threads,
        };
        CeStep.AddMs(record, "ce_step");
        Inference.AddMs(record, "inference");
        return record;
    }

    public static StudentStepTimes Read(System.Text.Json.JsonElement r) =>
        new(r.GetProperty("student").GetString()!, r.GetProperty("parameters").GetInt64(), r.GetProperty("batch").GetInt32(),
            r.GetProperty("threads").GetInt32(), Timing.Read(r, "ce_step"), Timing.Read(r, "inference"));
}
