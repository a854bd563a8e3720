using System.Text.Json;
using KdTools.Core.Losses;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>The three segmentation steps at one image size (and the networks' parameter counts, which PyTorch's must equal).</summary>
internal sealed record SegmentationStepTimes(int Side, Timing CeStep, Timing PixelPairStep, Timing SkdStep, long StudentParameters,
    long TeacherParameters, long CriticParameters)
{
    public Dictionary<string, object> ToJson(string framework, int threads)
    {
        var record = new Dictionary<string, object>
        {
            ["framework"] = framework, ["bench"] = "segmentation_step", ["student"] = SegmentationStepBenchmark.Student,
            ["teacher"] = SegmentationStepBenchmark.Teacher, ["side"] = Side,
            ["batch"] = $"{SegmentationStepBenchmark.Batch}x3x{Side}x{Side}", ["threads"] = threads,
            ["student_parameters"] = StudentParameters, ["teacher_parameters"] = TeacherParameters, ["critic_parameters"] = CriticParameters,
        };
        CeStep.AddMs(record, "ce_step");
        PixelPairStep.AddMs(record, "skd_pixel_pair_step");
        SkdStep.AddMs(record, "skd_step");
        SkdStep.Over(CeStep).Add(record, "skd_to_ce");
        record["critic_share"] = Math.Round((SkdStep.MedianMs - PixelPairStep.MedianMs) / SkdStep.MedianMs, 3);
        return record;
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote (bench_torch.py writes the same keys).</summary>
    public static SegmentationStepTimes Read(JsonElement r) =>
        new(r.GetProperty("side").GetInt32(), Timing.Read(r, "ce_step"), Timing.Read(r, "skd_pixel_pair_step"), Timing.Read(r, "skd_step"),
            r.GetProperty("student_parameters").GetInt64(), r.GetProperty("teacher_parameters").GetInt64(), r.GetProperty("critic_parameters").GetInt64());
}

/// <summary>
/// SKD's cost on a segmentation student, at 64 and 512 px: one CE step of pspnet_resnet18_w8 on a batch of 8 random
/// images (label maps at full size, 6 classes), one SKD step of the same student from pspnet_resnet18_w16 without the
/// holistic term (pixel- and pair-wise), and one full SKD step (with the critic's term in the student's loss and the
/// critic's own update, WGAN-GP, reference width 64) as the engine runs them. bench_torch.py times the same steps.
/// </summary>
internal static class SegmentationStepBenchmark
{
    public const string Student = "pspnet_resnet18_w8", Teacher = "pspnet_resnet18_w16";
    public const int Batch = 8, Classes = 6;

    /// <summary>The image sides measured: a CPU-sized crop and the paper's 512-pixel Cityscapes crop.</summary>
    public static readonly int[] Sides = [64, 512];

    public static IEnumerable<SegmentationStepTimes> Run(BenchOptions o)
    {
        foreach (int side in Sides)
        {
            torch.manual_seed(0);
            using var images = randn(Batch, 3, side, side);
            using var labels = randint(0, Classes, [Batch, side, side], dtype: ScalarType.Int64);
            using var indices = arange(Batch, dtype: ScalarType.Int64);
            using var teacher = ArchitectureRegistry.Create(Teacher, Classes, seed: 1);
            teacher.eval();
            Timing Time(SegmentationStep step)
            {
                ulong count = 0;
                return Timing.Of(o.MethodWarmup, o.MethodIterations, () =>
                {
                    using var random = new Generator(count++);
                    step.Run(images, labels, indices, random, dropout: true);
                });
            }
            Timing ce, partial, full;
            long studentParameters, criticParameters;
            using (var step = new SegmentationStep("CE", null, null, images)) ce = Time(step);
            using (var step = new SegmentationStep("SKD", teacher, new Dictionary<string, object?> { ["Holistic"] = false }, images)) partial = Time(step);
            using (var step = new SegmentationStep("SKD", teacher, null, images))
            {
                full = Time(step);
                studentParameters = step.StudentNet.ParameterCount();
                criticParameters = step.Objective.Extras!.parameters().Sum(p => p.numel());
            }
            yield return new SegmentationStepTimes(side, ce, partial, full, studentParameters, teacher.ParameterCount(), criticParameters);
            GC.Collect();
        }
    }
}

/// <summary>
/// One training step of a segmentation student as the engine runs it: the teacher under no_grad, the student in
/// train mode, segmentation CE plus the method's terms, SGD with SKD's recipe settings, then the method's auxiliary
/// update (SKD's critic) on the same outputs. The method's modules are built from a feature probe, outside any dispose scope.
/// </summary>
internal sealed class SegmentationStep : IDisposable
{
    private readonly ClassifierNet? _teacher;
    private readonly SgdOptimizer _sgd;
    private readonly AuxiliaryOptimizer? _auxiliary;

    public SegmentationStep(string method, ClassifierNet? teacher, IReadOnlyDictionary<string, object?>? options, Tensor probeImages)
    {
        _teacher = teacher;
        StudentNet = (SegmentationNet)ArchitectureRegistry.Create(SegmentationStepBenchmark.Student, SegmentationStepBenchmark.Classes, seed: 2);
        Objective = MethodRegistry.Create(method, options);
        if (teacher is not null) Initialize(probeImages);
        var parameters = StudentNet.named_parameters().Select(p => ($"model.{p.name}", p.parameter));
        var update = Objective.AuxiliaryUpdate;
        if (Objective.Extras is { } extras && update is null)
            parameters = parameters.Concat(extras.named_parameters().Select(p => ($"extras.{p.name}", p.parameter)));
        var settings = TrainingRecipes.Get("SKD").Settings;
        _sgd = new SgdOptimizer(parameters, settings.LearningRate, settings.Momentum, settings.WeightDecay, nesterov: false);
        _auxiliary = update is null ? null : new AuxiliaryOptimizer(update);
        StudentNet.train();
        Objective.Extras?.train();
    }

    public SegmentationNet StudentNet { get; }
    public DistillationMethod Objective { get; }

    /// <summary>
    /// One step; returns the student's terms (<c>ce</c>, the method's) and the auxiliary update's loss when
    /// <paramref name="readTerms"/>, else null (reading them synchronises nothing on the CPU, but costs a little).
    /// </summary>
    /// <param name="random">The step's generator: the critic's gradient-penalty weights and, with <paramref name="dropout"/>, the head's dropout.</param>
    public Dictionary<string, double>? Run(Tensor images, Tensor labels, Tensor indices, Generator random, bool dropout, bool readTerms = false)
    {
        using var scope = NewDisposeScope();
        ModelOutput? teacherOutput = null;
        if (_teacher is not null)
        {
            using var noGrad = no_grad();
            teacherOutput = _teacher.Run(images);
        }
        var studentOutput = StudentNet.Run(images, dropout ? random : null);
        var terms = new LossTerms();
        terms.Add("ce", SegmentationCrossEntropy.Compute(studentOutput.Logits, labels));
        var context = new StepContext(images, labels, indices, studentOutput, teacherOutput, epoch: 0, random: random);
        Objective.AddLosses(context, terms);
        var total = terms.Sum();
        _sgd.ZeroGrad();
        total.backward();
        _sgd.Step();
        double? auxiliary = _auxiliary?.Step(context);
        if (!readTerms) return null;
        var values = terms.Items.ToDictionary(t => t.Key, t => t.Value.ToDouble());
        values["total"] = total.ToDouble();
        if (auxiliary is { } loss) values[_auxiliary!.Update.Name] = loss;
        return values;
    }

    /// <summary>The method's modules from the networks' feature shapes; built outside any dispose scope, which would free them.</summary>
    private void Initialize(Tensor images)
    {
        static Dictionary<string, long[]> Shapes(ModelOutput o) => o.Features.ToDictionary(f => f.Key, f => f.Value.shape);
        MethodSetup setup;
        using (var scope = NewDisposeScope())
        using (var noGrad = no_grad())
        {
            StudentNet.eval();
            var probe = images.narrow(0, 0, 2);
            setup = new MethodSetup(Shapes(StudentNet.Run(probe)), Shapes(_teacher!.Run(probe)), SegmentationStepBenchmark.Classes, CPU,
                inputShape: probe.shape);
        }
        Objective.Initialize(setup);
    }

    public void Dispose()
    {
        _auxiliary?.Dispose();
        _sgd.Dispose();
        Objective.Dispose();
        StudentNet.Dispose();
    }
}
