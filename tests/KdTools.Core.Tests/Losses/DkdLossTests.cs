using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class DkdLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("DKD");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("DKD", caseName, ScalarType.Float64, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float32(string caseName) =>
        GoldenLossHarness.CheckLoss("DKD", caseName, ScalarType.Float32, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parts_match_the_golden_components(string caseName)
    {
        using var scope = NewDisposeScope();
        var golden = GoldenFile.Load("DKD").Case(caseName);
        var parts = DkdLoss.Parts(golden.Input("z_s"), golden.Input("z_t"), golden.Input("target"), golden.Param("T", 4));
        var components = golden.Expected.GetProperty("components");
        GoldenAssert.Close(components.GetProperty("tckd").GetDouble(), parts.TargetClass.ToDouble(), "tckd");
        GoldenAssert.Close(components.GetProperty("nckd").GetDouble(), parts.NonTargetClass.ToDouble(), "nckd");
    }

    [Fact]
    public void Equal_logits_give_zero_and_no_gradient()
    {
        using var scope = NewDisposeScope();
        var logits = randn(5, 7, ScalarType.Float64);
        var student = logits.clone().requires_grad_(true);
        var loss = Weighted(student, logits, tensor(new long[] { 0, 1, 2, 3, 6 }));
        loss.backward();
        Assert.True(Math.Abs(loss.ToDouble()) < 1e-12);
        Assert.True(student.grad!.abs().max().ToDouble() < 1e-12);
    }

    [Fact]
    public void Targets_of_another_batch_fail_with_the_loss_shape_id()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => DkdLoss.Parts(zeros(4, 3), zeros(4, 3), zeros(3, ScalarType.Int64)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    private static Tensor Loss(GoldenInputs x) =>
        Weighted(x["z_s"], x["z_t"], x.Case.Input("target"), x.Param("alpha", 1), x.Param("beta", 8), x.Param("T", 4));

    /// <summary>α·TCKD + β·NCKD as the DKD method weights <see cref="DkdLoss.Parts"/> (its warm-up aside).</summary>
    private static Tensor Weighted(Tensor student, Tensor teacher, Tensor target,
        double alpha = DkdLoss.DefaultAlpha, double beta = DkdLoss.DefaultBeta, double temperature = DkdLoss.DefaultTemperature)
    {
        var parts = DkdLoss.Parts(student, teacher, target, temperature);
        return alpha * parts.TargetClass + beta * parts.NonTargetClass;
    }
}
