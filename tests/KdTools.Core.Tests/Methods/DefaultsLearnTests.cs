using KdTools.Core.Evaluation;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

/// <summary>
/// Defaults that learn (issue 23): a run at a method's defaults, with only the epochs (and this test's small batch)
/// set, must leave the student better than it started, from a teacher that has learned something. Every
/// classification method trains a CIFAR ResNet; the logit methods (which pair no stages) also train a Wide ResNet. The
/// synthetic set is the smallest that still separates learning from chance.
/// </summary>
public class DefaultsLearnTests(DefaultsLearnTests.LearnedTeacher fixture) : IClassFixture<DefaultsLearnTests.LearnedTeacher>
{
    /// <summary>A resnet14 teacher trained until it is well above chance on the synthetic set, with DIH heads.</summary>
    public sealed class LearnedTeacher : IDisposable
    {
        public LearnedTeacher()
        {
            Data = TinySetup.Dataset(train: 256, test: 128);
            var job = TinySetup.Job(Data, student: "resnet14");
            new Trainer(TinySetup.Settings(epochs: TeacherEpochs)).Run(job);
            Teacher = job.Student;
            WithHeads = (MultiExitNet)HeadFineTuning.Run(Teacher, null, Data, TinySetup.Settings(epochs: 1) with { LearningRate = 0.1 }).Network;
        }

        public KdTools.Core.Data.KdDataset Data { get; }
        public ClassifierNet Teacher { get; }
        public MultiExitNet WithHeads { get; }

        public void Dispose() => Data.Dispose();
    }

    private const int TeacherEpochs = 6;

    private const int Epochs = 3;

    public static IEnumerable<object[]> EveryMethodOnResNet() =>
        MethodRegistry.All.Where(m => m.Tasks.Contains(PredictionTask.Classification) && m.Name != "TAKD")
            .Select(m => new object[] { m.Name, "resnet8" });

    /// <summary>
    /// The logit methods on a Wide ResNet. VGG (DKD, DIST) and the lightweight students (KD, DKD, DIST, even at
    /// RepDistiller's 0.01) do not yet beat their untrained network on this 16-pixel set (issue 23 stays open on
    /// that); on real CIFAR-10 at 0.01 DKD into ShuffleV2 does (docs/methods.md, DKD).
    /// </summary>
    public static IEnumerable<object[]> LogitMethodsOnAWideResNet() =>
        from method in new[] { "KD", "DKD", "DIST" }
        select new object[] { method, "wrn_16_1" };

    [Theory]
    [MemberData(nameof(EveryMethodOnResNet))]
    [MemberData(nameof(LogitMethodsOnAWideResNet))]
    public void A_run_at_the_methods_defaults_beats_the_untrained_student(string method, string student)
    {
        var data = fixture.Data;
        var teacher = method == "DIH" ? fixture.WithHeads : fixture.Teacher;
        double chance = 1.0 / data.Classes;
        double teacherTop1 = Evaluator.Evaluate(fixture.Teacher, data.Test, data.Normalization, CPU).Top1;
        Assert.True(teacherTop1 > chance + 0.25, $"the teacher learned too little: top-1 {teacherTop1}");

        const long seed = 5;
        using var untrained = ArchitectureRegistry.Create(student, data.Classes, seed);
        double before = Evaluator.Evaluate(untrained, data.Test, data.Normalization, CPU).Top1;
        // RepDistiller's (and mdistiller's) rate for the lightweight students, 0.01: the Default recipe takes it over in
        // the task- and student-aware defaults of issue 23 (another change); until then the test names it.
        var settings = TrainingRecipes.Get(TrainingRecipes.DefaultName).SettingsFor(student);
        if (ArchitectureRegistry.Get(student).Lightweight && TrainingRecipes.Get("RepDistiller").LightweightLearningRate is { } lightweight)
            settings = settings with { LearningRate = Math.Min(settings.LearningRate, lightweight) };
        var result = Distillation.Run(new DistillationRequest
        {
            Dataset = data, StudentArchitecture = student, Teacher = teacher, MethodName = method,
            Settings = settings with { Epochs = Epochs, BatchSize = 32, Seed = seed, Threads = 2 },
        });

        Assert.True(result.Top1 > before, $"{method} into {student} at its defaults: top-1 {result.Top1:P1} after {Epochs} epochs, untrained {before:P1} (options {result.MethodOptions})");
    }
}
