using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class AttentionTransferLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("AT");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLayerLosses("AT", caseName, ScalarType.Float64, Losses);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLayerLosses("AT", GoldenLossHarness.FirstCase("AT"), ScalarType.Float32, Losses);

    [Fact]
    public void Hand_computed_attention_map()
    {
        using var scope = NewDisposeScope();
        // One sample, two channels over a 1×2 map: channel 0 = [1, 2], channel 1 = [3, 0].
        // mean_c(f²) = [(1 + 9)/2, (4 + 0)/2] = [5, 2]; normalised: [5, 2]/√29.
        var feature = tensor(new[] { 1.0, 2.0, 3.0, 0.0 }, [1, 2, 1, 2], ScalarType.Float64);
        var map = AttentionTransferLoss.AttentionMap(feature);
        Assert.Equal([1L, 2L], map.shape);
        GoldenAssert.Close(5 / Math.Sqrt(29), map[0, 0].ToDouble(), "a[0]");
        GoldenAssert.Close(2 / Math.Sqrt(29), map[0, 1].ToDouble(), "a[1]");
    }

    [Fact]
    public void Layer_count_mismatch_fails()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => AttentionTransferLoss.ComputeLayers([zeros(2, 3, 4, 4)], []));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    [Fact]
    public void Equal_heights_with_different_widths_fail()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => AttentionTransferLoss.Compute(zeros(2, 3, 4, 4), zeros(2, 3, 4, 6)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
        Assert.Contains("equal widths", ex.Message);
    }

    [Fact]
    public void Batch_mismatch_fails()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => AttentionTransferLoss.Compute(zeros(2, 3, 4, 4), zeros(3, 3, 4, 4)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    private static Tensor[] Losses(GoldenInputs x)
    {
        int layers = (int)x.Param("num_layers", 0);
        var students = Enumerable.Range(0, layers).Select(i => x[$"g_s{i}"]).ToArray();
        var teachers = Enumerable.Range(0, layers).Select(i => x[$"g_t{i}"]).ToArray();
        return AttentionTransferLoss.ComputeLayers(students, teachers, x.Param("p", AttentionTransferLoss.DefaultPower));
    }
}
