using KdTools.Core.Losses;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

/// <summary>What the new feature methods check and build before any training.</summary>
public class FeatureMethodSetupTests
{
    [Theory]
    [InlineData("FSP", "stem: 16 vs 32")]
    [InlineData("KDSVD", "stage1: 16 vs 64")]
    public void Methods_that_need_equal_widths_fail_before_training(string method, string detail)
    {
        using var data = TinySetup.Dataset(train: 32, test: 8);
        var teacher = ArchitectureRegistry.Create("resnet8x4", data.Classes);
        var job = TinySetup.Job(data, method: method, teacher: teacher);
        var trainer = new Trainer(TinySetup.Settings(epochs: 1));
        int steps = 0;
        trainer.Progress += _ => steps++;
        var ex = Assert.Throws<KdException>(() => trainer.Run(job));
        Assert.Equal(KdErrorIds.FeatureShapeMismatch, ex.ErrorId);
        Assert.Contains(detail, ex.Message);
        Assert.Equal(0, steps);
    }

    [Fact]
    public void OFD_takes_its_margins_from_the_teachers_norms_and_pairs_the_deepest_stages()
    {
        using var teacher = ArchitectureRegistry.Create("resnet18", 4, seed: 2);
        using var student = ArchitectureRegistry.Create("resnet8", 4, seed: 3);
        using var method = MethodRegistry.Create("OFD");
        method.Initialize(Setup(student, teacher, teacher.PreActivationNorm));

        var state = method.Extras!.state_dict();
        // Three student stages meet the teacher's last three (2, 3, 4).
        for (int level = 0; level < 3; level++)
        {
            var (weight, bias) = teacher.PreActivationNorm(level + 2)!.Value;
            var expected = OfdLoss.Margins(weight, bias).data<float>().ToArray();
            Assert.Equal(expected, state[$"modules.margins.{level}"].data<float>().ToArray());
            Assert.Equal(weight.shape[0], state[$"modules.connectors.{level}.conv.weight"].shape[0]);
        }
        Assert.False(state.ContainsKey("modules.margins.3"));
    }

    [Fact]
    public void OFD_says_when_the_teacher_has_no_norm_before_its_ReLU()
    {
        using var teacher = ArchitectureRegistry.Create("resnet14", 4);
        using var student = ArchitectureRegistry.Create("resnet8", 4);
        using var method = MethodRegistry.Create("OFD");
        var ex = Assert.Throws<KdException>(() => method.Initialize(Setup(student, teacher, _ => null)));
        Assert.Equal(KdErrorIds.FeatureMissing, ex.ErrorId);
        Assert.Contains("BatchNorm before each teacher stage's ReLU", ex.Message);
    }

    [Fact]
    public void ReviewKD_fuses_to_the_teachers_shapes_from_the_deepest_level()
    {
        using var teacher = ArchitectureRegistry.Create("resnet8x4", 4, seed: 2);
        using var student = ArchitectureRegistry.Create("resnet8", 4, seed: 3);
        using var method = MethodRegistry.Create("ReviewKD", new Dictionary<string, object?> { ["MaxMidChannels"] = 48 });
        method.Initialize(Setup(student, teacher, teacher.PreActivationNorm));
        var state = method.Extras!.state_dict();
        // Level 0: the embedding (64 → 256, no fusion); then stages 3, 2, 1 (64/32/16 → 256/128/64). Middle width
        // min(48, the student's embedding width 64) = 48.
        Assert.Equal(new long[] { 48, 64, 1, 1 }, state["modules.0.conv1.0.weight"].shape);
        Assert.Equal(new long[] { 256, 48, 3, 3 }, state["modules.0.conv2.0.weight"].shape);
        Assert.False(state.ContainsKey("modules.0.att_conv.0.weight"));
        Assert.Equal(new long[] { 64, 48, 3, 3 }, state["modules.3.conv2.0.weight"].shape);
        Assert.Equal(new long[] { 2, 96, 1, 1 }, state["modules.3.att_conv.0.weight"].shape);
    }

    private static MethodSetup Setup(ClassifierNet student, ClassifierNet teacher, Func<int, (Tensor, Tensor)?> norms)
    {
        static Dictionary<string, long[]> Shapes(ModelOutput o) => o.Features.ToDictionary(f => f.Key, f => f.Value.shape);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 3, 16, 16);
        student.eval();
        teacher.eval();
        return new MethodSetup(Shapes(student.Run(x)), Shapes(teacher.Run(x)), 4, CPU, trainingSamples: 8,
            teacherPreActivationNorm: norms);
    }
}
