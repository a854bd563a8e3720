using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class ActivationBoundaryLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("AB");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLayerLosses("AB", caseName, ScalarType.Float64, Losses);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLayerLosses("AB", GoldenLossHarness.FirstCase("AB"), ScalarType.Float32, Losses);

    [Fact]
    public void Hand_computed_single_layer()
    {
        using var scope = NewDisposeScope();
        // m = 1, one sample, five channels of 1×1 (s, t):
        // (−1, 0): off, but s = −m is not > −m → 0.   (0.5, 0): off, s > −m → (0.5 + 1)² = 2.25.
        // (1, 1): on, s = m ≤ m → (1 − 1)² = 0.        (2, 1): on, s > m → 0.   (0.5, 3): on → (0.5 − 1)² = 0.25.
        // Sum 2.5; one layer → weight 2^0 = 1; / B (1) / 1000 · 3 = 0.0075.
        var student = tensor(new[] { -1.0, 0.5, 1.0, 2.0, 0.5 }, [1, 5, 1, 1], ScalarType.Float64);
        var teacher = tensor(new[] { 0.0, 0.0, 1.0, 1.0, 3.0 }, [1, 5, 1, 1], ScalarType.Float64);
        GoldenAssert.Close(2.5, ActivationBoundaryLoss.BoundarySum(student, teacher).ToDouble(), "sum");
        var losses = ActivationBoundaryLoss.ComputeLayers([student], [teacher]);
        GoldenAssert.Close(0.0075, Assert.Single(losses).ToDouble(), "loss");
    }

    [Fact]
    public void Pair_shape_mismatch_fails()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => ActivationBoundaryLoss.ComputeLayers([zeros(2, 3, 2, 2)], [zeros(2, 4, 2, 2)]));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    private static Tensor[] Losses(GoldenInputs x)
    {
        int layers = (int)x.Param("num_layers", 0);
        var students = Enumerable.Range(0, layers).Select(i => x[$"g_s{i}"]).ToArray();
        var teachers = Enumerable.Range(0, layers).Select(i => x[$"g_t{i}"]).ToArray();
        return ActivationBoundaryLoss.ComputeLayers(students, teachers, x.Param("margin", ActivationBoundaryLoss.DefaultMargin));
    }
}
