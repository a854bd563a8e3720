using KdTools.Core.Methods;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

/// <summary>
/// What the feature methods say they read of the teacher (<see cref="DistillationMethod.TeacherFeaturesRead"/>,
/// <see cref="DistillationMethod.ReadsTeacherLogits"/>), which decides where the engine's teacher pass may stop: AT
/// reads every paired stage, FitNet its hint, SP the last stage, none of them the logits unless a KD term is added.
/// </summary>
public class TeacherReadsTests
{
    [Theory]
    [InlineData("AT", new[] { "stage1", "stage2", "stage3" })]
    [InlineData("FitNet", new[] { "stage2" })]
    [InlineData("SP", new[] { "stage3" })]
    public void Feature_methods_name_the_stages_they_read_and_read_logits_only_with_a_kd_term(string name, string[] stages)
    {
        using var plain = MethodRegistry.Create(name);
        using var withKd = MethodRegistry.Create(name, new Dictionary<string, object?> { ["KdWeight"] = 0.5 });
        Assert.Null(plain.TeacherFeaturesRead);   // unknown before the shapes are: the engine keeps every feature

        plain.Initialize(Setup());
        withKd.Initialize(Setup());

        Assert.Equal(stages, plain.TeacherFeaturesRead!.Order());
        Assert.False(plain.ReadsTeacherLogits);
        Assert.True(withKd.ReadsTeacherLogits);
        using var kd = MethodRegistry.Create("KD");
        Assert.True(kd.ReadsTeacherLogits);
    }

    /// <summary>The shapes a resnet8 student and a resnet20 teacher give on 2×3×32×32 inputs.</summary>
    private static MethodSetup Setup()
    {
        static Dictionary<string, long[]> Shapes(string architecture)
        {
            using var network = ArchitectureRegistry.Create(architecture, 10);
            network.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return network.Run(zeros(2, 3, 32, 32)).Features.ToDictionary(f => f.Key, f => f.Value.shape);
        }
        return new MethodSetup(Shapes("resnet8"), Shapes("resnet20"), 10, CPU);
    }
}
