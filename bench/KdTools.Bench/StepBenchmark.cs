using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>Times the engine's own pieces (models, KD method, SGD) on random CIFAR-shaped batches.</summary>
internal static class StepBenchmark
{
    public static StepTimes Run(string studentName, string teacherName, BenchOptions o)
    {
        torch.set_num_threads(o.Threads);
        torch.manual_seed(0);
        using var student = ArchitectureRegistry.Create(studentName, o.Classes);
        using var teacher = ArchitectureRegistry.Create(teacherName, o.Classes);
        using var sgd = new SgdOptimizer(student.named_parameters().Select(p => (p.name, p.parameter)), 0.05, 0.9, 5e-4, nesterov: false);
        using var kd = MethodRegistry.Create("KD");
        using var inputs = torch.randn(o.BatchSize, 3, 32, 32);
        using var labels = torch.randint(0, o.Classes, o.BatchSize, dtype: ScalarType.Int64);
        student.train();
        teacher.eval();

        void Step(bool distill)
        {
            using var scope = torch.NewDisposeScope();
            ModelOutput? t = null;
            if (distill)
            {
                using var noGrad = torch.no_grad();
                t = teacher.Run(inputs);
            }
            var s = student.Run(inputs);
            var terms = new LossTerms();
            terms.Add("ce", (distill ? kd.TaskLossWeight : 1.0) * nn.functional.cross_entropy(s.Logits, labels));
            if (distill) kd.AddLosses(new StepContext(inputs, labels, labels, s, t, 0), terms);
            var loss = terms.Sum();
            sgd.ZeroGrad();
            loss.backward();
            sgd.Step();
        }

        double ce = Median.Of(o.Warmup, o.Iterations, () => Step(distill: false));
        double kdStep = Median.Of(o.Warmup, o.Iterations, () => Step(distill: true));
        double eval = Median.Of(o.Warmup, o.Iterations, () =>
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            teacher.Run(inputs);
        });
        return new StepTimes(studentName, teacherName, o.BatchSize, o.Threads, ce, kdStep, eval);
    }
}
