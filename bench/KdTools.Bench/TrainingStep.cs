using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// One training step as the engine's Trainer.Step runs it, minus loading and augmenting the batch: the teacher under
/// no_grad (keeping only what the method reads), the student, the method's task-loss weight times CE plus the method's own terms, backward, SGD.
/// </summary>
internal sealed class TrainingStep(ClassifierNet student, ClassifierNet? teacher, DistillationMethod method, SgdOptimizer optimizer)
{
    /// <summary>The summed loss of the latest step, read back as the engine does (so a diverged bench run shows).</summary>
    public double LastLoss { get; private set; }

    public void Run(BenchBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        ModelOutput? teacherOutput = null;
        if (teacher is not null)
        {
            using var noGrad = torch.no_grad();
            // As Trainer.Step runs it: only what the method reads (a logits-only teacher in inference mode, a
            // features-only one stopped after its last feature).
            teacherOutput = FeatureRequest.RunFrozen(teacher, batch.Images, method.TeacherFeaturesRead, method.ReadsTeacherLogits);
        }
        var studentOutput = student.Run(batch.Images);
        var terms = new LossTerms();
        if (method.TaskLossWeight != 0) terms.Add("ce", method.TaskLossWeight * nn.functional.cross_entropy(studentOutput.Logits, batch.Labels));
        method.AddLosses(new StepContext(batch.Images, batch.Labels, batch.Indices, studentOutput, teacherOutput, epoch: 0), terms);
        var total = terms.Sum();
        optimizer.ZeroGrad();
        total.backward();
        optimizer.Step();
        LastLoss = total.ToDouble();
    }

    /// <summary>The engine's SGD for <paramref name="settings"/> over the trainable parameters of <paramref name="modules"/>.</summary>
    public static SgdOptimizer Optimizer(TrainingSettings settings, params nn.Module?[] modules)
    {
        var parameters = modules.OfType<nn.Module>()
            .SelectMany((m, k) => m.named_parameters().Select(p => ($"{k}.{p.name}", p.parameter)));
        return new SgdOptimizer(parameters, settings.LearningRate, settings.Momentum, settings.WeightDecay, settings.Nesterov);
    }
}
