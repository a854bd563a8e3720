using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;

namespace KdTools.Core.Tests.Methods;

/// <summary>Untrained teachers of the reference tables' heterogeneous pairs, built once, with DIH heads on each.</summary>
public sealed class HeterogeneousTeachersFixture : IDisposable
{
    private readonly Dictionary<string, ClassifierNet> _teachers = new();
    private readonly Dictionary<string, MultiExitNet> _withHeads = new();

    public HeterogeneousTeachersFixture()
    {
        // 16 pixels is the smallest side at which every pair keeps the stage-side ratios it has on 32-pixel CIFAR
        // (at 8, vgg13's and MobileNetV2's last stages both shrink to 1x1).
        Data = SyntheticDataset.Create(new SyntheticDatasetOptions { Classes = 4, TrainCount = 8, TestCount = 8, ImageSize = 16, Seed = 7 });
        foreach (string teacher in HeterogeneousPairTests.Pairs.Select(p => p.Teacher).Distinct())
        {
            var network = ArchitectureRegistry.Create(teacher, Data.Classes, seed: 2);
            _teachers[teacher] = network;
            _withHeads[teacher] = (MultiExitNet)HeadFineTuning.Run(network, null, Data, HeterogeneousPairTests.OneStep).Network;
        }
    }

    public KdDataset Data { get; }

    /// <summary>The teacher a method distills from: DIH needs the intermediate heads.</summary>
    public ClassifierNet Teacher(string architecture, string method) =>
        method == "DIH" ? _withHeads[architecture] : _teachers[architecture];

    public void Dispose() => Data.Dispose();
}

/// <summary>
/// Every registered method on the heterogeneous pairs of the CIFAR distillation benchmark (RepDistiller's table:
/// different families, stage widths and spatial sides): one step of each stage either gives finite losses or the
/// method refuses the pair before training with a stable error id.
/// </summary>
public class HeterogeneousPairTests(HeterogeneousTeachersFixture fixture) : IClassFixture<HeterogeneousTeachersFixture>
{
    /// <summary>The heterogeneous pairs of RepDistiller's CIFAR-100 table.</summary>
    internal static readonly (string Teacher, string Student)[] Pairs =
    [
        ("resnet32x4", "ShuffleV1"),
        ("resnet32x4", "ShuffleV2"),
        ("wrn_40_2", "ShuffleV1"),
        ("vgg13", "MobileNetV2"),
        ("resnet50", "MobileNetV2"),
    ];

    /// <summary>One epoch of one batch: one optimizer step per stage.</summary>
    internal static readonly TrainingSettings OneStep = TinySetup.Settings(epochs: 1) with { BatchSize = 8 };

    /// <summary>Pre-stages shortened to their single step.</summary>
    private static readonly Dictionary<string, Dictionary<string, object?>> ShortStages = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FitNet"] = new() { ["HintEpochs"] = 1 },
        ["FT"] = new() { ["ParaphraserEpochs"] = 1 },
        ["AB"] = new() { ["InitEpochs"] = 1 },
        ["MHKD"] = new() { ["HeadEpochs"] = 1, ["HeadWidth"] = 32 },
        ["TOFD"] = new() { ["HeadEpochs"] = 1 },
    };

    /// <summary>
    /// Methods that cannot pair these networks by their definition, and the error they must give before any step.
    /// Every other method must train. In every pair some stage of the student has half the teacher's side.
    /// </summary>
    private static readonly Dictionary<string, string> Refusals = new(StringComparer.OrdinalIgnoreCase)
    {
        // 1×1 connectors compare maps element by element (RepDistiller's ConvReg connectors would resize them).
        ["AB"] = KdErrorIds.FeatureShapeMismatch,
        // Gram matrices and singular vectors over channels: student and teacher widths must be equal.
        ["FSP"] = KdErrorIds.FeatureShapeMismatch,
        ["KDSVD"] = KdErrorIds.FeatureShapeMismatch,
    };

    public static IEnumerable<object[]> Cases() =>
        from pair in Pairs
        from method in MethodRegistry.All.Where(m => m.Name != "TAKD" && m.Tasks.Contains(PredictionTask.Classification))
        select new object[] { pair.Teacher, pair.Student, method.Name };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Method_takes_one_finite_step_or_refuses_the_pair_up_front(string teacher, string student, string name)
    {
        using var method = MethodRegistry.Create(name, ShortStages.GetValueOrDefault(name));
        var job = new TrainingJob
        {
            Student = ArchitectureRegistry.Create(student, fixture.Data.Classes, seed: 5),
            Teacher = method.NeedsTeacher ? fixture.Teacher(teacher, name) : null,
            Method = method,
            Dataset = fixture.Data,
        };
        var trainer = new Trainer(OneStep);
        int steps = 0;
        trainer.Progress += _ => steps++;

        if (Refusals.TryGetValue(name, out var errorId))
        {
            var ex = Assert.Throws<KdException>(() => trainer.Run(job));
            Assert.Equal(errorId, ex.ErrorId);
            Assert.Equal(0, steps);
            return;
        }
        var result = trainer.Run(job);

        Assert.Equal(method.PreStages.Count(p => p.Epochs > 0) + 1, result.History.Count);
        Assert.All(result.History, epoch =>
        {
            Assert.True(double.IsFinite(epoch.TrainLoss), $"{name} {epoch.Stage}: loss {epoch.TrainLoss}");
            Assert.NotEmpty(epoch.Terms);
            Assert.All(epoch.Terms, term => Assert.True(double.IsFinite(term.Value), $"{name} {epoch.Stage}: {term.Key} = {term.Value}"));
        });
    }

    [Theory]
    [InlineData("resnet32x4", "ShuffleV1")]
    [InlineData("vgg13", "MobileNetV2")]
    public void FT_official_variant_refuses_the_pairs_its_default_RepDistiller_variant_trains(string teacher, string student)
    {
        // The default (RepDistiller's) variant pools the larger factor map and trains in the test above; the authors'
        // variant compares whole factors element by element.
        using var method = MethodRegistry.Create("FT", new Dictionary<string, object?> { ["Variant"] = "official", ["ParaphraserEpochs"] = 1 });
        var job = new TrainingJob
        {
            Student = ArchitectureRegistry.Create(student, fixture.Data.Classes, seed: 5),
            Teacher = fixture.Teacher(teacher, "FT"),
            Method = method,
            Dataset = fixture.Data,
        };

        var ex = Assert.Throws<KdException>(() => new Trainer(OneStep).Run(job));
        Assert.Equal(KdErrorIds.FeatureShapeMismatch, ex.ErrorId);
    }

    [Theory]
    [InlineData("resnet32x4", "ShuffleV1", "resnet8x4")]
    [InlineData("vgg13", "MobileNetV2", "vgg8")]
    public void TAKD_chains_through_an_assistant_of_the_teachers_family(string teacher, string student, string assistant)
    {
        var result = Distillation.Run(new DistillationRequest
        {
            Dataset = fixture.Data,
            StudentArchitecture = student,
            Teacher = fixture.Teacher(teacher, "TAKD"),
            MethodName = "TAKD",
            MethodOptions = new Dictionary<string, object?> { ["Assistant"] = assistant, ["AssistantEpochs"] = 1 },
            Settings = OneStep,
        });

        Assert.Equal(assistant, Assert.Single(result.EarlierRuns).Network.Architecture);
        Assert.All(result.History, epoch => Assert.True(double.IsFinite(epoch.TrainLoss)));
    }
}
