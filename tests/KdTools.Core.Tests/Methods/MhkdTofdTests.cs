using KdTools.Core.Methods;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

public class MhkdTofdTests(TrainedTeacherFixture fixture) : IClassFixture<TrainedTeacherFixture>
{
    public static TheoryData<string, string[]> Methods() => new()
    {
        { "MHKD", ["ce", "kd", "head_ce", "head_kd"] },
        { "TOFD", ["ce", "kd", "head_ce", "head_kd", "feature", "orthogonal"] },
    };

    /// <summary>One short teacher-head stage and narrow MHKD heads keep the run small.</summary>
    private static Dictionary<string, object?> ShortOptions(string method) => method == "MHKD"
        ? new() { ["HeadEpochs"] = 1, ["HeadWidth"] = 32 }
        : new() { ["HeadEpochs"] = 1 };

    [Theory]
    [MemberData(nameof(Methods))]
    public void Teacher_heads_train_first_then_the_student_learns_every_term_while_teacher_and_its_heads_stay_fixed(string name, string[] expectedTerms)
    {
        // TOFD's default train-mode teacher moves its heads' BatchNorm averages by design (TeacherModeTests); in eval
        // mode nothing of the teacher's may move.
        var options = ShortOptions(name);
        if (name == "TOFD") options["TeacherMode"] = "Eval";
        using var method = MethodRegistry.Create(name, options);
        var teacherBefore = State(fixture.Teacher, _ => true);
        var job = new TrainingJob
        {
            Student = ArchitectureRegistry.Create("resnet8", fixture.Data.Classes, seed: 5),
            Teacher = fixture.Teacher,
            Method = method,
            Dataset = fixture.Data,
        };
        Dictionary<string, double[]>? afterFirstHeadBatch = null, afterHeadStage = null;
        var result = TinySetup.Train(job, TinySetup.Settings(epochs: 2), new EngineOptions
        {
            EpochCompleted = r =>
            {
                if (r.Stage == "teacher_heads") afterHeadStage = TeacherHeads(method);
            },
        }, progress: p =>
        {
            if (p.Stage == "teacher_heads") afterFirstHeadBatch ??= TeacherHeads(method);
        });

        var headStage = Assert.Single(result.History, h => h.Stage == "teacher_heads");
        Assert.Equal(new[] { "teacher_head_ce" }, headStage.Terms.Keys);
        // The student does not run in a stage that does not train it, so there is no train accuracy to report.
        Assert.True(double.IsNaN(headStage.TrainAccuracy), $"{name}: head-stage train top-1 {headStage.TrainAccuracy}");
        Assert.Equal(new[] { "teacher_heads", Trainer.MainStage, Trainer.MainStage }, result.History.Select(h => h.Stage));
        var epochs = result.TrainEpochs.ToList();
        foreach (var epoch in result.History)
        {
            Assert.True(double.IsFinite(epoch.TrainLoss), $"{name} {epoch.Stage} epoch {epoch.Epoch}: loss {epoch.TrainLoss}");
            Assert.All(epoch.Terms.Values, v => Assert.True(double.IsFinite(v)));
            Assert.True(Math.Abs(epoch.TrainLoss - epoch.Terms.Values.Sum()) <= 1e-5 * Math.Max(1, Math.Abs(epoch.TrainLoss)));
        }
        Assert.All(epochs, e => Assert.Equal(expectedTerms, e.Terms.Keys));
        Assert.True(epochs[1].TrainLoss < epochs[0].TrainLoss, $"{name}: loss {epochs[0].TrainLoss} → {epochs[1].TrainLoss}");

        // The head stage moved the teacher's heads; the main stage moved neither them nor the teacher, buffers included.
        Assert.NotNull(afterFirstHeadBatch);
        Assert.NotNull(afterHeadStage);
        Assert.Contains(afterHeadStage, kv => !kv.Value.SequenceEqual(afterFirstHeadBatch[kv.Key]));
        AssertBitwiseEqual(afterHeadStage, TeacherHeads(method));
        AssertBitwiseEqual(teacherBefore, State(fixture.Teacher, _ => true));
    }

    [Fact]
    public void TOFD_resizes_student_features_to_a_wider_teacher_at_every_level()
    {
        using var data = TinySetup.Dataset(train: 32, test: 8);
        var teacher = ArchitectureRegistry.Create("resnet8x4", data.Classes, seed: 2);
        using var method = MethodRegistry.Create("TOFD", ShortOptions("TOFD"));
        var job = new TrainingJob { Student = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 5), Teacher = teacher, Method = method, Dataset = data };

        var result = new Trainer(TinySetup.Settings(epochs: 1)).Run(job);

        // Heads after stages 1 and 2 and the final embedding: student width 64 → teacher width 256 at each level.
        var resizers = method.Extras!.state_dict().Where(kv => kv.Key.StartsWith("modules.resizers.")).ToList();
        Assert.Equal(3, resizers.Count);
        Assert.All(resizers, kv => Assert.Equal(new long[] { 256, 64 }, kv.Value.shape));
        Assert.All(result.TrainEpochs.Single().Terms.Values, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void MHKD_and_TOFD_mount_a_head_after_every_stage_but_the_last()
    {
        var setup = new MethodSetup(Shapes(16, 32, 64), Shapes(32, 64, 128), classes: 5, torch.CPU);
        using var mhkd = MethodRegistry.Create("MHKD", new Dictionary<string, object?> { ["HeadWidth"] = 8 });
        using var tofd = MethodRegistry.Create("TOFD");
        mhkd.Initialize(setup);
        tofd.Initialize(setup);

        Assert.Equal(new[] { "teacher_heads.0", "teacher_heads.1", "student_heads.0", "student_heads.1" }, Heads(mhkd));
        Assert.Equal(new[] { "teacher_heads.0", "teacher_heads.1", "student_heads.0", "student_heads.1" }, Heads(tofd));
        Assert.Equal(3, tofd.Extras!.named_parameters().Count(p => p.name.StartsWith("modules.resizers.")));
    }

    [Theory]
    [InlineData(16, 16)]
    [InlineData(4, 4)]
    [InlineData(2, 2)]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    public void MHKD_head_fits_stage_maps_of_any_size(long height, long width)
    {
        using var head = new MhkdHead([2, 6, height, width], width: 8, classes: 5);
        using var scope = torch.NewDisposeScope();
        head.eval();
        Assert.Equal(new long[] { 2, 5 }, head.call(torch.randn(2, 6, height, width)).shape);
    }

    [Fact]
    public void Task_oriented_head_ends_at_the_last_stage_width_and_downsamples_only_where_the_backbone_does()
    {
        // Stage 3 keeps stage 2's size (as a VGG's last block does): the first block halves, the second must not.
        using var head = new TaskOrientedHead([[2, 8, 8, 8], [2, 16, 4, 4], [2, 24, 4, 4]], classes: 5);
        using var scope = torch.NewDisposeScope();
        head.eval();
        var (logits, feature) = head.Run(torch.randn(2, 8, 8, 8));
        Assert.Equal(new long[] { 2, 5 }, logits.shape);
        Assert.Equal(new long[] { 2, 24 }, feature.shape);
        Assert.Equal(24, head.FeatureWidth);
        var strides = head.modules().OfType<TorchSharp.Modules.Conv2d>().Where(c => c.groups > 1).Select(c => c.stride![0]).ToArray();
        Assert.Equal(new long[] { 2, 1, 1, 1 }, strides);
    }

    [Fact]
    public void Orthogonality_penalty_matches_hand_computed_values()
    {
        using var scope = torch.NewDisposeScope();
        // W = [1 2]: WWᵀ − I = [4] → 4; WᵀW − I = [[0, 2], [2, 3]] → √(0 + 4 + 4 + 9) = √17.
        var row = FeatureResizer.Orthogonality(torch.tensor(new double[] { 1, 2 }, 1, 2));
        Assert.Equal(ScalarType.Float64, row.dtype);
        Assert.Equal(4 + Math.Sqrt(17), row.item<double>(), 12);
        // Orthonormal rows in 3-D: WWᵀ = I₂ → 0; WᵀW − I₃ = diag(0, 0, −1) → 1.
        Assert.Equal(1.0, FeatureResizer.Orthogonality(torch.tensor(new double[] { 1, 0, 0, 0, 1, 0 }, 2, 3)).item<double>(), 12);
        // A permutation is orthogonal: both terms vanish.
        Assert.Equal(0.0, FeatureResizer.Orthogonality(torch.tensor(new float[] { 0, 1, 1, 0 }, 2, 2)).item<float>());
    }

    [Fact]
    public void Feature_distance_is_the_unsquared_norm_over_the_whole_batch()
    {
        using var scope = torch.NewDisposeScope();
        // Difference [[0, 2], [3, 0]] → √(4 + 9).
        var distance = FeatureResizer.Distance(torch.tensor(new double[] { 1, 2, 3, 4 }, 2, 2), torch.tensor(new double[] { 1, 0, 0, 4 }, 2, 2));
        Assert.Equal(Math.Sqrt(13), distance.item<double>(), 12);
    }

    [Fact]
    public void TOFD_temperature_ramps_from_about_one_to_one_plus_t_as_in_the_official_script()
    {
        var options = new TofdOptions();
        Assert.Equal(1 + 3.0 / 250, options.TemperatureAt(0), 12);
        Assert.Equal(4.0, options.TemperatureAt(249), 12);
        Assert.Equal(4.0, options.TemperatureAt(400), 12);
        Assert.Equal(4.0, new TofdOptions { TemperatureRampEpochs = 1 }.TemperatureAt(0), 12);
    }

    [Theory]
    [InlineData("MHKD", "HeadEpochs", 0)]
    [InlineData("MHKD", "Alpha", 1.5)]
    [InlineData("MHKD", "HeadWidth", 0)]
    [InlineData("TOFD", "HeadEpochs", 0)]
    [InlineData("TOFD", "TemperatureRampEpochs", 0)]
    [InlineData("TOFD", "OrthogonalWeight", -1)]
    public void Invalid_options_are_rejected_with_the_option_named(string method, string option, object value)
    {
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create(method, new Dictionary<string, object?> { [option] = value }));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
        Assert.Equal(option, ex.Target);
    }

    private static Dictionary<string, long[]> Shapes(long c1, long c2, long c3) => new()
    {
        ["stage1"] = [2, c1, 16, 16],
        ["stage2"] = [2, c2, 8, 8],
        ["stage3"] = [2, c3, 4, 4],
        ["embedding"] = [2, c3],
    };

    /// <summary>The heads that own trainable parameters, as "list.index" (what the optimizer and checkpoints see).</summary>
    private static string[] Heads(DistillationMethod method) =>
        method.Extras!.named_parameters().Select(p => string.Join('.', p.name.Split('.').Skip(1).Take(2)))
            .Where(n => n.Contains("_heads.")).Distinct().ToArray();

    private static Dictionary<string, double[]> TeacherHeads(DistillationMethod method) =>
        State(method.Extras!, key => key.StartsWith("modules.teacher_heads."));

    /// <summary>Every state entry (weights and BN buffers, counters included) as exact doubles.</summary>
    private static Dictionary<string, double[]> State(nn.Module module, Func<string, bool> include)
    {
        using var scope = torch.NewDisposeScope();
        return module.state_dict().Where(kv => include(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float64).data<double>().ToArray());
    }

    private static void AssertBitwiseEqual(Dictionary<string, double[]> expected, Dictionary<string, double[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, values) in expected)
            Assert.True(values.SequenceEqual(actual[key]), $"{key} changed");
    }
}
