using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Bench;

/// <summary>CE step, KD step and teacher inference of one student/teacher pair.</summary>
internal static class StepBenchmark
{
    public static StepTimes Run(string studentName, string teacherName, BenchOptions o)
    {
        torch.manual_seed(0);
        using var student = ArchitectureRegistry.Create(studentName, o.Classes);
        using var teacher = ArchitectureRegistry.Create(teacherName, o.Classes);
        using var sgd = TrainingStep.Optimizer(new TrainingSettings(), student);
        using var ce = MethodRegistry.Create("CE");
        using var kd = MethodRegistry.Create("KD");
        using var batch = new BenchBatch(o.BatchSize, o.Classes);
        using var plainImages = batch.Images.contiguous();
        student.train();
        teacher.eval();
        // The teacher as the engine runs it: a copy with its BatchNorms folded into its convolutions.
        using var frozen = FrozenTeacher.Create(teacher, 3, 32, 32, torch.CPU);

        var ceTraining = new TrainingStep(student, teacher: null, ce, sgd);
        var kdTraining = new TrainingStep(student, frozen.Network, kd, sgd);
        var ceStep = Timing.Of(o.Warmup, o.Iterations, () => ceTraining.Run(batch));
        var kdStep = Timing.Of(o.Warmup, o.Iterations, () => kdTraining.Run(batch));
        // As the engine runs KD's teacher: folded, channels-last, logits only in inference mode (FeatureRequest).
        var teacherEval = Timing.Of(o.Warmup, o.Iterations, () =>
        {
            using var scope = torch.NewDisposeScope();
            FeatureRequest.RunFrozen(frozen.Network, batch.Images, kd.TeacherFeaturesRead);
        });
        // Neither folded nor channels-last, every feature kept under no_grad: what the three measures are worth.
        var teacherEvalPlain = Timing.Of(o.Warmup, o.Iterations, () =>
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            teacher.Run(plainImages);
        });
        return new StepTimes(studentName, teacherName, o.BatchSize, o.Threads, ceStep, kdStep, teacherEval, teacherEvalPlain);
    }
}
