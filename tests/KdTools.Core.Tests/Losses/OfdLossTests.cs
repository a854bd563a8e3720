using System.Text.Json;
using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class OfdLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("OFD");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("OFD", caseName, ScalarType.Float64, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float32(string caseName) =>
        GoldenLossHarness.CheckLoss("OFD", caseName, ScalarType.Float32, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Margins_match_the_golden_components(string caseName)
    {
        using var scope = NewDisposeScope();
        var golden = GoldenFile.Load("OFD").Case(caseName);
        var expected = golden.Expected.GetProperty("components").GetProperty("margins").EnumerateArray().ToList();
        for (int level = 0; level < expected.Count; level++)
        {
            var margins = OfdLoss.Margins(golden.Input($"bn_weight{level}"), golden.Input($"bn_bias{level}")).data<double>().ToArray();
            var want = expected[level].EnumerateArray().Select(GoldenCase.ReadNumber).ToArray();
            Assert.Equal(want.Length, margins.Length);
            for (int c = 0; c < want.Length; c++) GoldenAssert.Close(want[c], margins[c], $"margin[{level}][{c}]");
        }
    }

    [Fact]
    public void Hand_computed_margin_of_a_zero_mean_channel()
    {
        using var scope = NewDisposeScope();
        // β = 0, |γ| = 2: −2·φ(0)/Φ(0) = −2·(1/√(2π))/(1/2) = −4/√(2π), the mean of a half-normal's negative side.
        var margin = OfdLoss.Margins(tensor(new[] { -2.0 }, ScalarType.Float64), tensor(new[] { 0.0 }, ScalarType.Float64));
        GoldenAssert.Close(-4 / Math.Sqrt(2 * Math.PI), margin.ToDouble(), "margin");
    }

    [Fact]
    public void Partial_L2_ignores_a_student_below_the_margin_where_the_teacher_is_off()
    {
        using var scope = NewDisposeScope();
        // Margin −1, one channel, four positions (s, t): (−2, −3) s below m → 0; (0, −3) s > m, t ≤ m → (0+1)² = 1;
        // (0, −0.5) m < t ≤ 0, s > t → 0.25; (1, 2) t > 0 → 1. Batch of one: sum 2.25.
        var student = tensor(new[] { -2.0, 0, 0, 1 }, [1, 1, 2, 2], ScalarType.Float64);
        var teacher = tensor(new[] { -3.0, -3, -0.5, 2 }, [1, 1, 2, 2], ScalarType.Float64);
        GoldenAssert.Close(2.25, OfdLoss.PartialL2(student, teacher, tensor(new[] { -1.0 }, ScalarType.Float64)).ToDouble(), "loss");
    }

    private static Tensor Loss(GoldenInputs x)
    {
        int levels = (int)x.Param("num_levels", 0);
        var margins = Enumerable.Range(0, levels).Select(i => OfdLoss.Margins(x[$"bn_weight{i}"], x[$"bn_bias{i}"])).ToArray();
        return OfdLoss.Compute(Enumerable.Range(0, levels).Select(i => x[$"source{i}"]).ToArray(),
            Enumerable.Range(0, levels).Select(i => x[$"target{i}"]).ToArray(), margins);
    }
}
