using KdTools.Core.Losses;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// SKD's cost on a segmentation student: one CE step of pspnet_resnet18_w8 on a batch of 8 random 64×64 images (label
/// maps at full size), one SKD step of the same student from pspnet_resnet18_w16 without the holistic term (pixel- and
/// pair-wise), and one full SKD step (with the critic's term in the student's loss and the critic's own update, WGAN-GP,
/// reference width 64) as the engine runs them. The critic's share is what the holistic part adds to the full step.
/// </summary>
internal static class SegmentationStepBenchmark
{
    private const string Student = "pspnet_resnet18_w8", Teacher = "pspnet_resnet18_w16";
    private const int Batch = 8, Side = 64, Classes = 6;

    public static Dictionary<string, object> Run(BenchOptions o)
    {
        torch.manual_seed(0);
        using var images = randn(Batch, 3, Side, Side);
        using var labels = randint(0, Classes, [Batch, Side, Side], dtype: ScalarType.Int64);
        using var indices = arange(Batch, dtype: ScalarType.Int64);
        using var teacher = ArchitectureRegistry.Create(Teacher, Classes, seed: 1);
        teacher.eval();

        var ce = Time(o, images, labels, indices, null, "CE", null);
        var partial = Time(o, images, labels, indices, teacher, "SKD", new Dictionary<string, object?> { ["Holistic"] = false });
        var full = Time(o, images, labels, indices, teacher, "SKD", null);
        var record = new Dictionary<string, object>
        {
            ["framework"] = "kdtools", ["bench"] = "segmentation_step", ["student"] = Student, ["teacher"] = Teacher,
            ["batch"] = $"{Batch}x3x{Side}x{Side}",
        };
        ce.AddMs(record, "ce_step");
        partial.AddMs(record, "skd_pixel_pair_step");
        full.AddMs(record, "skd_step");
        full.Over(ce).Add(record, "skd_to_ce");
        record["critic_share"] = Math.Round((full.MedianMs - partial.MedianMs) / full.MedianMs, 3);
        record["critic_share_min"] = Math.Round((full.MinMs - partial.MinMs) / full.MinMs, 3);
        return record;
    }

    private static Timing Time(BenchOptions o, Tensor images, Tensor labels, Tensor indices, ClassifierNet? teacher, string method,
        IReadOnlyDictionary<string, object?>? options)
    {
        using var student = (SegmentationNet)ArchitectureRegistry.Create(Student, Classes, seed: 2);
        using var objective = MethodRegistry.Create(method, options);
        if (teacher is not null) Initialize(objective, student, teacher, images);
        objective.Extras?.train();
        student.train();
        var parameters = student.named_parameters().Select(p => ($"model.{p.name}", p.parameter));
        var update = objective.AuxiliaryUpdate;
        if (objective.Extras is { } extras && update is null)
            parameters = parameters.Concat(extras.named_parameters().Select(p => ($"extras.{p.name}", p.parameter)));
        var settings = TrainingRecipes.Get("SKD").Settings;
        using var sgd = new SgdOptimizer(parameters, settings.LearningRate, settings.Momentum, settings.WeightDecay, nesterov: false);
        using var critic = update is null ? null : new AuxiliaryOptimizer(update);
        ulong step = 0;
        return Timing.Of(o.MethodWarmup, o.MethodIterations, () =>
        {
            using var scope = NewDisposeScope();
            using var random = new Generator(step++);
            ModelOutput? teacherOutput = null;
            if (teacher is not null)
            {
                using var noGrad = no_grad();
                teacherOutput = teacher.Run(images);
            }
            var studentOutput = student.Run(images, random);
            var terms = new LossTerms();
            terms.Add("ce", SegmentationCrossEntropy.Compute(studentOutput.Logits, labels));
            var context = new StepContext(images, labels, indices, studentOutput, teacherOutput, epoch: 0, random: random);
            objective.AddLosses(context, terms);
            var total = terms.Sum();
            sgd.ZeroGrad();
            total.backward();
            sgd.Step();
            critic?.Step(context);
        });
    }

    /// <summary>The method's modules from the networks' feature shapes; built outside any dispose scope, which would free them.</summary>
    private static void Initialize(DistillationMethod method, ClassifierNet student, ClassifierNet teacher, Tensor images)
    {
        static Dictionary<string, long[]> Shapes(ModelOutput o) => o.Features.ToDictionary(f => f.Key, f => f.Value.shape);
        MethodSetup setup;
        using (var scope = NewDisposeScope())
        using (var noGrad = no_grad())
        {
            student.eval();
            var probe = images.narrow(0, 0, 2);
            setup = new MethodSetup(Shapes(student.Run(probe)), Shapes(teacher.Run(probe)), Classes, CPU, inputShape: probe.shape);
        }
        method.Initialize(setup);
    }
}
