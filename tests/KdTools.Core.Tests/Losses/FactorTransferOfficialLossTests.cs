using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class FactorTransferOfficialLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("FT_official");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("FT_official", caseName, ScalarType.Float64, Loss);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLoss("FT_official", GoldenLossHarness.FirstCase("FT_official"), ScalarType.Float32, Loss);

    [Fact]
    public void Different_shapes_fail_with_the_loss_shape_id()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => FactorTransferLoss.ComputeOfficial(zeros(2, 4, 3, 3), zeros(2, 4, 2, 2)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    private static Tensor Loss(GoldenInputs x) => FactorTransferLoss.ComputeOfficial(x["factor_s"], x["factor_t"]);
}
