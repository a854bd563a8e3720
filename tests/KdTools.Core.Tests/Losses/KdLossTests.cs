using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class KdLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("KD");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("KD", caseName, ScalarType.Float64, Loss);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLoss("KD", GoldenLossHarness.FirstCase("KD"), ScalarType.Float32, Loss);

    [Fact]
    public void Hand_computed_two_class_case()
    {
        using var scope = NewDisposeScope();
        // T = 2, one sample: y_s = [0, 0] gives q = [1/2, 1/2]; y_t = [2 ln 3, 0] gives p = softmax([ln 3, 0]) = [3/4, 1/4].
        // KL(p‖q) = 3/4·ln(3/4 / 1/2) + 1/4·ln(1/4 / 1/2) = 3/4·ln(3/2) − 1/4·ln 2; times T² = 4.
        var student = tensor(new[] { 0.0, 0.0 }, [1, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 2 * Math.Log(3), 0.0 }, [1, 2], ScalarType.Float64);
        double expected = 4 * (0.75 * Math.Log(1.5) - 0.25 * Math.Log(2));
        GoldenAssert.Close(expected, KdLoss.Compute(student, teacher, 2.0).ToDouble(), "KD");
    }

    [Fact]
    public void Teacher_logits_get_no_gradient()
    {
        using var scope = NewDisposeScope();
        var student = randn(3, 4, ScalarType.Float64).requires_grad_(true);
        var teacher = randn(3, 4, ScalarType.Float64).requires_grad_(true);
        KdLoss.Compute(student, teacher).backward();
        Assert.NotNull(student.grad);
        Assert.Null(teacher.grad);
    }

    [Fact]
    public void Different_shapes_fail_with_the_loss_shape_id()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => KdLoss.Compute(zeros(2, 5), zeros(2, 4)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
        Assert.Contains("[2, 5] and [2, 4]", ex.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Non_positive_temperature_fails(double temperature)
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => KdLoss.Compute(zeros(2, 3), zeros(2, 3), temperature));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
    }

    private static Tensor Loss(GoldenInputs x) => KdLoss.Compute(x["y_s"], x["y_t"], x.Param("T", KdLoss.DefaultTemperature));
}
