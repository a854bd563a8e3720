using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class DistLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("DIST");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("DIST", caseName, ScalarType.Float64, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float32(string caseName) =>
        GoldenLossHarness.CheckLoss("DIST", caseName, ScalarType.Float32, Loss);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parts_match_the_golden_components(string caseName)
    {
        using var scope = NewDisposeScope();
        var golden = GoldenFile.Load("DIST").Case(caseName);
        var parts = DistLoss.Parts(golden.Input("z_s"), golden.Input("z_t"), golden.Param("tau", 1));
        var components = golden.Expected.GetProperty("components");
        GoldenAssert.Close(components.GetProperty("inter").GetDouble(), parts.Inter.ToDouble(), "inter");
        GoldenAssert.Close(components.GetProperty("intra").GetDouble(), parts.Intra.ToDouble(), "intra");
    }

    [Fact]
    public void Hand_computed_two_by_two_case()
    {
        using var scope = NewDisposeScope();
        // τ = 1. Student probabilities [[3/4, 1/4], [1/4, 3/4]]; every centred row and column is ±[1/4, −1/4], so each
        // correlation is ±0.125 / (0.125 + 1e-8) (the norms' product is 0.125). The same pattern gives 1 − c per
        // relation; the teacher's transpose [[1/4, 3/4], [3/4, 1/4]] flips every sign: 1 + c.
        double z = Math.Log(3); // softmax([z, 0]) = [3/4, 1/4]
        double c = 0.125 / (0.125 + DistLoss.Eps);
        var student = tensor(new[] { z, 0, 0, z }, [2, 2], ScalarType.Float64);
        var flipped = tensor(new[] { 0, z, z, 0 }, [2, 2], ScalarType.Float64);
        GoldenAssert.Close(2 * (1 - c), Weighted(student, student).ToDouble(), "same", atol: 1e-12);
        var parts = DistLoss.Parts(student, flipped);
        GoldenAssert.Close(1 + c, parts.Inter.ToDouble(), "inter");
        GoldenAssert.Close(1 + c, parts.Intra.ToDouble(), "intra");
    }

    private static Tensor Loss(GoldenInputs x) =>
        Weighted(x["z_s"], x["z_t"], x.Param("beta", 1), x.Param("gamma", 1), x.Param("tau", 1));

    /// <summary>β·inter + γ·intra as the DIST method weights <see cref="DistLoss.Parts"/> (its DistWeight aside).</summary>
    private static Tensor Weighted(Tensor student, Tensor teacher, double beta = 1, double gamma = 1, double tau = 1)
    {
        var parts = DistLoss.Parts(student, teacher, tau);
        return beta * parts.Inter + gamma * parts.Intra;
    }
}
