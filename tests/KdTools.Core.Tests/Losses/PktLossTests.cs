using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class PktLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("PKT");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) =>
        GoldenLossHarness.CheckLoss("PKT", caseName, ScalarType.Float64, Loss);

    [Fact]
    public void Matches_golden_in_float32() =>
        GoldenLossHarness.CheckLoss("PKT", GoldenLossHarness.FirstCase("PKT"), ScalarType.Float32, Loss);

    [Fact]
    public void Hand_computed_orthogonal_student_against_collinear_teacher()
    {
        using var scope = NewDisposeScope();
        // Rows are divided by (norm + eps), so a unit row becomes u = 1/(1 + eps) long.
        // Student rows (1,0), (0,1): cosines [[u², 0], [0, u²]] → sim [[(u²+1)/2, 1/2], [1/2, (u²+1)/2]],
        //   each row / (u²/2 + 1): diagonal q_d = (u²+1)/(u²+2), off-diagonal q_o = 1/(u²+2).
        // Teacher rows (1,0), (1,0): all cosines u² → all sims equal → p = 1/2 everywhere.
        // loss = mean of the 4 entries = (2·½·ln((½+eps)/(q_d+eps)) + 2·½·ln((½+eps)/(q_o+eps))) / 4.
        const double eps = PktLoss.DefaultEps;
        double u2 = Math.Pow(1 / (1 + eps), 2);
        double qDiagonal = (u2 + 1) / (u2 + 2), qOff = 1 / (u2 + 2);
        double expected = (Math.Log((0.5 + eps) / (qDiagonal + eps)) + Math.Log((0.5 + eps) / (qOff + eps))) / 4;
        var student = tensor(new[] { 1.0, 0.0, 0.0, 1.0 }, [2, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 1.0, 0.0, 1.0, 0.0 }, [2, 2], ScalarType.Float64);
        GoldenAssert.Close(expected, PktLoss.Compute(student, teacher).ToDouble(), "PKT", atol: 1e-12, rtol: 1e-10);
    }

    [Fact]
    public void Zero_for_identical_features_and_invariant_to_row_scale()
    {
        using var scope = NewDisposeScope();
        var features = randn(5, 4, ScalarType.Float64);
        Assert.Equal(0.0, PktLoss.Compute(features, features).ToDouble());
        var rowScales = tensor(new[] { 0.5, 2.0, 3.0, 10.0, 1.0 }, [5, 1], ScalarType.Float64);
        var teacher = randn(5, 6, ScalarType.Float64);
        GoldenAssert.Close(PktLoss.Compute(features, teacher).ToDouble(), PktLoss.Compute(features * rowScales, teacher).ToDouble(), "scaled rows");
    }

    private static Tensor Loss(GoldenInputs x) => PktLoss.Compute(x["f_s"], x["f_t"], x.Param("eps", PktLoss.DefaultEps));
}
