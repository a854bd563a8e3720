using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class FitNetLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("FitNet");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("FitNet", caseName, ScalarType.Float64, Loss);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLoss("FitNet", GoldenLossHarness.FirstCase("FitNet"), ScalarType.Float32, Loss);

    [Fact]
    public void Different_shapes_fail_with_the_loss_shape_id()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => FitNetLoss.Compute(zeros(2, 3, 4, 4), zeros(2, 5, 4, 4)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    private static Tensor Loss(GoldenInputs x) => FitNetLoss.Compute(x["f_s"], x["f_t"]);
}
