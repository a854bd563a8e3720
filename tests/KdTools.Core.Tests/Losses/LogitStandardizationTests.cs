using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

/// <summary>LSKD.json: the KD term on z-scored logits (KD and DIH compose it this way).</summary>
public class LogitStandardizationTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("LSKD");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("LSKD", caseName, ScalarType.Float64, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float32(string caseName) =>
        GoldenLossHarness.CheckLoss("LSKD", caseName, ScalarType.Float32, Loss);

    [Fact]
    public void Z_scores_have_zero_mean_and_unit_unbiased_deviation()
    {
        using var scope = NewDisposeScope();
        // [1, 2, 3]: mean 2, unbiased std 1 → [−1, 0, 1] (up to the 1e-7 in the denominator).
        var z = LogitStandardization.ZScore(tensor(new[] { 1.0, 2, 3, 10, 10, 40 }, [2, 3], ScalarType.Float64));
        var values = z.data<double>().ToArray();
        GoldenAssert.Close(-1, values[0], "z[0,0]");
        GoldenAssert.Close(0, values[1], "z[0,1]");
        GoldenAssert.Close(1, values[2], "z[0,2]");
        // [10, 10, 40]: mean 20, unbiased std sqrt((100 + 100 + 400) / 2) = sqrt(300).
        GoldenAssert.Close(20 / Math.Sqrt(300), values[5], "z[1,2]");
    }

    [Fact]
    public void DIH_standardises_the_soft_term_but_not_the_cross_entropy()
    {
        using var scope = NewDisposeScope();
        var student = randn(4, 5, ScalarType.Float64);
        var teacher = randn(4, 5, ScalarType.Float64);
        var target = tensor(new long[] { 0, 1, 2, 3 });
        // α = 0: only the cross-entropy remains, which must be the raw logits' one.
        GoldenAssert.Close(nn.functional.cross_entropy(student, target).ToDouble(),
            DihLoss.Kd(student, teacher, target, alpha: 0, standardize: true).ToDouble(), "ce");
        // α = 1: only the KL remains, the LSKD term without T².
        double kl = KdLoss.Compute(LogitStandardization.ZScore(student), LogitStandardization.ZScore(teacher), 5).ToDouble();
        GoldenAssert.Close(kl, DihLoss.Kd(student, teacher, target, alpha: 1, temperature: 5, standardize: true).ToDouble(), "kl");
    }

    private static Tensor Loss(GoldenInputs x) =>
        KdLoss.Compute(LogitStandardization.ZScore(x["z_s"]), LogitStandardization.ZScore(x["z_t"]), x.Param("T", 4));
}
