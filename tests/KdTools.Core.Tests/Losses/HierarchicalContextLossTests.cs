using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class HierarchicalContextLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("ReviewKD_HCL");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("ReviewKD_HCL", caseName, ScalarType.Float64, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float32(string caseName) =>
        GoldenLossHarness.CheckLoss("ReviewKD_HCL", caseName, ScalarType.Float32, Loss);

    [Fact]
    public void Hand_computed_two_by_two_pair()
    {
        using var scope = NewDisposeScope();
        // A 2×2 map: the full MSE plus the 1×1 level (weight 1/2), over 1 + 1/2. Student 0, teacher [1, 2, 3, 6]:
        // full MSE = (1 + 4 + 9 + 36)/4 = 12.5; pooled teacher 3 → MSE 9; (12.5 + 4.5) / 1.5 = 11.333…
        var student = zeros(1, 1, 2, 2, ScalarType.Float64);
        var teacher = tensor(new[] { 1.0, 2, 3, 6 }, [1, 1, 2, 2], ScalarType.Float64);
        GoldenAssert.Close(17 / 1.5, HierarchicalContextLoss.Compute([student], [teacher]).ToDouble(), "hcl");
    }

    private static Tensor Loss(GoldenInputs x)
    {
        int pairs = (int)x.Param("num_pairs", 0);
        return HierarchicalContextLoss.Compute(Enumerable.Range(0, pairs).Select(i => x[$"fs{i}"]).ToArray(),
            Enumerable.Range(0, pairs).Select(i => x[$"ft{i}"]).ToArray());
    }
}
