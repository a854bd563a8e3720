using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class VidLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("VID");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("VID", caseName, ScalarType.Float64, Loss);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLoss("VID", GoldenLossHarness.FirstCase("VID"), ScalarType.Float32, Loss);

    [Fact]
    public void Initial_log_scale_is_the_golden_initial_value()
    {
        using var scope = NewDisposeScope();
        var goldenLogScale = GoldenFile.Load("VID").Case("same_spatial_init_log_scale_b2").Input("log_scale");
        double initial = VidLoss.InitialLogScale();
        foreach (var value in goldenLogScale.data<double>().ToArray())
            GoldenAssert.Close(value, initial, "log_scale", atol: 1e-12, rtol: 1e-12);
    }

    [Fact]
    public void Log_scale_must_have_one_entry_per_target_channel()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => VidLoss.Compute(zeros(2, 4, 3, 3), zeros(2, 4, 3, 3), zeros(3)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
        Assert.Contains("one entry per target channel (4)", ex.Message);
    }

    /// <summary>The module's forward as the reference writes it: pool, bias-free 1×1 regressor with ReLUs, NLL.</summary>
    private static Tensor Loss(GoldenInputs x)
    {
        var (input, target) = SpatialPooling.MatchHeights(x["input"], x["target"]);
        var hidden = nn.functional.relu(nn.functional.conv2d(input, x["w1"]));
        hidden = nn.functional.relu(nn.functional.conv2d(hidden, x["w2"]));
        var mean = nn.functional.conv2d(hidden, x["w3"]);
        return VidLoss.Compute(mean, target, x["log_scale"], x.Param("eps", VidLoss.DefaultEps));
    }
}
