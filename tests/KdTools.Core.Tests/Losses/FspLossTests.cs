using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class FspLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("FSP");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLayerLosses("FSP", caseName, ScalarType.Float64, Losses);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float32(string caseName) =>
        GoldenLossHarness.CheckLayerLosses("FSP", caseName, ScalarType.Float32, Losses);

    [Fact]
    public void Hand_computed_matrix()
    {
        using var scope = NewDisposeScope();
        // One sample, 1×2 maps: bottom channels [1, 2] and [0, 1], top channel [3, 4].
        // G[0, c] = mean_hw(top·bottom_c) = [(3 + 8)/2, (0 + 4)/2] = [5.5, 2].
        var bottom = tensor(new[] { 1.0, 2, 0, 1 }, [1, 2, 1, 2], ScalarType.Float64);
        var top = tensor(new[] { 3.0, 4 }, [1, 1, 1, 2], ScalarType.Float64);
        var g = FspLoss.Matrix(bottom, top);
        Assert.Equal(new long[] { 1, 1, 2 }, g.shape);
        GoldenAssert.Close(5.5, g[0, 0, 0].ToDouble(), "G[0,0]");
        GoldenAssert.Close(2, g[0, 0, 1].ToDouble(), "G[0,1]");
    }

    [Fact]
    public void Different_channel_counts_fail_with_the_loss_shape_id()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => FspLoss.ComputeLayers(
            [zeros(2, 3, 4, 4), zeros(2, 4, 2, 2)], [zeros(2, 3, 4, 4), zeros(2, 8, 2, 2)]));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
        Assert.Contains("feature 1 has 4 student and 8 teacher channels", ex.Message);
    }

    private static Tensor[] Losses(GoldenInputs x)
    {
        int features = (int)x.Param("num_features", 0);
        return FspLoss.ComputeLayers(Enumerable.Range(0, features).Select(i => x[$"g_s{i}"]).ToArray(),
            Enumerable.Range(0, features).Select(i => x[$"g_t{i}"]).ToArray());
    }
}
