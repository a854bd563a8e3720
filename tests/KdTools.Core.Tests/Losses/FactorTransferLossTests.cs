using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class FactorTransferLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("FT");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("FT", caseName, ScalarType.Float64, Loss);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLoss("FT", GoldenLossHarness.FirstCase("FT"), ScalarType.Float32, Loss);

    [Fact]
    public void Other_p2_takes_the_signed_power_mean()
    {
        using var scope = NewDisposeScope();
        // One sample, one channel, a 1×2 map: the p1 = 2 factor of [1, 0] is [1, 0], of [0, 1] is [0, 1].
        // p2 = 2: mean([1, −1]²) = 1; p2 = 3: mean([1, −1]³) = 0.
        var student = tensor(new[] { 1.0, 0.0 }, [1, 1, 1, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 0.0, 1.0 }, [1, 1, 1, 2], ScalarType.Float64);
        GoldenAssert.Close(1.0, FactorTransferLoss.Compute(student, teacher, p2: 2).ToDouble(), "p2 = 2");
        GoldenAssert.Close(0.0, FactorTransferLoss.Compute(student, teacher, p2: 3).ToDouble(), "p2 = 3");
    }

    private static Tensor Loss(GoldenInputs x) =>
        FactorTransferLoss.Compute(x["factor_s"], x["factor_t"], x.Param("p1", 2), x.Param("p2", 1));
}
