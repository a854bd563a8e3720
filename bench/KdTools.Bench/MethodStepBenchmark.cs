using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// The main-stage training step of every registered method (except CE, the baseline, and TAKD, two KD runs) for
/// resnet20 distilled from resnet56, set up as the engine does it: probe, Initialize, Extras trained with the student.
/// Pre-stages (FitNet hints, FT paraphraser) are not timed: they run before, with their own cost.
/// </summary>
internal static class MethodStepBenchmark
{
    public const string Student = "resnet20";
    public const string Teacher = "resnet56";

    private static readonly string[] Excluded = ["CE", "TAKD"];

    /// <summary>KD first (every ratio is against it), then the other methods by name.</summary>
    public static IReadOnlyList<string> MethodNames(IReadOnlyList<string>? requested)
    {
        var names = requested?.Select(n => MethodRegistry.Get(n).Name) ?? MethodRegistry.All.Select(m => m.Name);
        return names.Where(n => !Excluded.Contains(n, StringComparer.OrdinalIgnoreCase)).Append("KD").Distinct()
            .OrderBy(n => n == "KD" ? 0 : 1).ThenBy(n => n, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <param name="names">From <see cref="MethodNames"/>: KD first.</param>
    public static IEnumerable<MethodStepTime> Run(BenchOptions o, IReadOnlyList<string> names)
    {
        using var batch = new BenchBatch(o.BatchSize, o.Classes);
        torch.manual_seed(0);
        using var teacher = ArchitectureRegistry.Create(Teacher, o.Classes);
        batch.CalibrateBatchNorm(teacher);
        Timing kd = default;
        foreach (var name in names)
        {
            var step = name == "DIH" ? TimeWithHeadedTeacher(o, batch) : Time(name, teacher, o, batch);
            if (name == "KD") kd = step;
            yield return new MethodStepTime(name, step, step.Over(kd));
            // Scalars made by implicit conversions in loss formulas are freed by finalizers only.
            GC.Collect();
        }
    }

    /// <summary>DIH needs a teacher with intermediate heads: the same resnet56 with a linear head after each stage.</summary>
    private static Timing TimeWithHeadedTeacher(BenchOptions o, BenchBatch batch)
    {
        torch.manual_seed(0);
        var backbone = ArchitectureRegistry.Create(Teacher, o.Classes);
        batch.CalibrateBatchNorm(backbone);
        var heads = LinearStageHeads.For(backbone, Enumerable.Range(1, backbone.StageCount).ToArray(), 3, 32, 32);
        using var teacher = new MultiExitNet(backbone, heads);
        teacher.eval();
        return Time("DIH", teacher, o, batch);
    }

    private static Timing Time(string name, ClassifierNet teacher, BenchOptions o, BenchBatch batch)
    {
        torch.manual_seed(0);
        using var student = ArchitectureRegistry.Create(Student, o.Classes);
        using var method = MethodRegistry.Create(name);
        var device = batch.Images.device;
        method.Initialize(Probe(student, method.NeedsTeacher ? teacher : null, batch, o.Classes));
        method.Extras?.to(device);
        using var sgd = TrainingStep.Optimizer(new TrainingSettings(), student, method.Extras);
        student.train();
        method.Extras?.train();
        method.PrepareEpoch(Trainer.MainStage);

        var step = new TrainingStep(student, method.NeedsTeacher ? teacher : null, method, sgd);
        var timing = Timing.Of(o.MethodWarmup, o.MethodIterations, () => step.Run(batch));
        if (!double.IsFinite(step.LastLoss))
            Console.Error.WriteLine($"bench: the {name} loss became {step.LastLoss}; its time covers non-finite arithmetic");
        return timing;
    }

    /// <summary>The engine's feature probe (Trainer.ProbeFeatures): a 2-sample forward in eval mode, shapes only.</summary>
    private static MethodSetup Probe(ClassifierNet student, ClassifierNet? teacher, BenchBatch batch, int classes)
    {
        static Dictionary<string, long[]> Shapes(ModelOutput o) => o.Features.ToDictionary(f => f.Key, f => f.Value.shape);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = batch.Images.narrow(0, 0, 2);
        student.eval();
        var s = student.Run(x);
        var t = teacher?.Run(x);
        student.train();
        return new MethodSetup(Shapes(s), t is null ? null : Shapes(t), classes, x.device, s.Exits.Keys.ToList(),
            t?.Exits.Keys.ToList(), BenchBatch.TrainingSamples, random: null, batch.TrainingLabels, teacher is null ? null : teacher.PreActivationNorm);
    }
}
