using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class RkdLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("RKD");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) => Check(caseName, ScalarType.Float64);

    [Fact]
    public void Matches_golden_in_float32() => Check(GoldenLossHarness.FirstCase("RKD"), ScalarType.Float32);

    [Fact]
    public void Hand_computed_three_points()
    {
        using var scope = NewDisposeScope();
        // Student points (0,0), (1,0), (0,1): distances 1, 1, √2, mean (2 + √2)/3 over the 6 off-diagonal entries.
        // Teacher points (0,0), (2,0), (0,2): the same shape scaled by 2, so the normalised distances and all angles
        // agree: both parts are exactly 0.
        var student = tensor(new[] { 0.0, 0.0, 1.0, 0.0, 0.0, 1.0 }, [3, 2], ScalarType.Float64);
        var teacher = tensor(new[] { 0.0, 0.0, 2.0, 0.0, 0.0, 2.0 }, [3, 2], ScalarType.Float64);
        var terms = RkdLoss.Compute(student, teacher);
        GoldenAssert.Close(0.0, terms.Total.ToDouble(), "scaled copy");

        // Teacher (0,0), (1,0), (2,0) on a line: d01 = 1, d02 = 2, d12 = 1, mean 4/3, normalised 3/4, 3/2, 3/4.
        // Student normalised: d01 = d02 = a, d12 = √2·a with a = 3/(2+√2). Every difference is below 1 (the quadratic
        // branch of smooth-L1, 0.5·x²) and each pair appears twice among the 9 entries:
        // loss_d = 2·0.5·((a − 3/4)² + (a − 3/2)² + (√2·a − 3/4)²) / 9.
        var line = tensor(new[] { 0.0, 0.0, 1.0, 0.0, 2.0, 0.0 }, [3, 2], ScalarType.Float64);
        double a = 3 / (2 + Math.Sqrt(2));
        double expectedDistance = (Math.Pow(a - 0.75, 2) + Math.Pow(a - 1.5, 2) + Math.Pow(Math.Sqrt(2) * a - 0.75, 2)) / 9;
        GoldenAssert.Close(expectedDistance, RkdLoss.Compute(student, line).Distance.ToDouble(), "distance vs line");
    }

    [Fact]
    public void A_single_sample_batch_fails_instead_of_returning_NaN()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<KdException>(() => RkdLoss.Compute(zeros(1, 4), zeros(1, 4)));
        Assert.Equal(KdErrorIds.LossShapeMismatch, ex.ErrorId);
    }

    private static void Check(string caseName, ScalarType dtype)
    {
        double distance = double.NaN, angle = double.NaN;
        GoldenLossHarness.CheckLoss("RKD", caseName, dtype, x =>
        {
            var terms = RkdLoss.Compute(x["f_s"], x["f_t"], x.Param("w_d", RkdLoss.DefaultDistanceWeight), x.Param("w_a", RkdLoss.DefaultAngleWeight));
            distance = terms.Distance.ToDouble();
            angle = terms.Angle.ToDouble();
            return terms.Total;
        });
        var components = GoldenFile.Load("RKD").Case(caseName).Expected.GetProperty("components");
        GoldenLossHarness.Close(GoldenCase.ReadNumber(components.GetProperty("distance")), distance, "distance", dtype);
        GoldenLossHarness.Close(GoldenCase.ReadNumber(components.GetProperty("angle")), angle, "angle", dtype);
    }
}
