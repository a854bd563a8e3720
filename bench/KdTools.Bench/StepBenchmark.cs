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
        Timing TeacherForward(ClassifierNet network, torch.Tensor images) => Timing.Of(o.Warmup, o.Iterations, () =>
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            network.Run(images);
        });
        var teacherEval = TeacherForward(frozen.Network, batch.Images);
        // Neither folded nor channels-last: what the two measures are worth.
        var teacherEvalPlain = TeacherForward(teacher, plainImages);
        return new StepTimes(studentName, teacherName, o.BatchSize, o.Threads, ceStep, kdStep, teacherEval, teacherEvalPlain);
    }
}
