using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class StructuredKdLossTests
{
    public static IEnumerable<object[]> PixelWiseCases => GoldenFile.CaseNames("SKD_PixelWise");
    public static IEnumerable<object[]> PairWiseCases => GoldenFile.CaseNames("SKD_PairWise");

    [Theory, MemberData(nameof(PixelWiseCases))]
    public void PixelWise_matches_golden_in_float64(string caseName) => AssertPixelWiseMatchesGolden(caseName, ScalarType.Float64);

    [Theory, MemberData(nameof(PixelWiseCases))]
    public void PixelWise_matches_golden_in_float32(string caseName) => AssertPixelWiseMatchesGolden(caseName, ScalarType.Float32);

    [Theory, MemberData(nameof(PairWiseCases))]
    public void PairWise_matches_golden_in_float64(string caseName) => AssertPairWiseMatchesGolden(caseName, ScalarType.Float64);

    [Theory, MemberData(nameof(PairWiseCases))]
    public void PairWise_matches_golden_in_float32(string caseName) => AssertPairWiseMatchesGolden(caseName, ScalarType.Float32);

    [Fact]
    public void PixelWise_rejects_maps_of_different_sizes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<KdException>(() => StructuredKdLoss.PixelWise(randn(1, 3, 4, 4), randn(1, 3, 8, 8)));
        Assert.Equal(KdErrorIds.InputShapeMismatch, error.ErrorId);
    }

    [Fact]
    public void PairWise_rejects_maps_of_different_spatial_sizes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<KdException>(() => StructuredKdLoss.PairWise(randn(1, 3, 4, 4), randn(1, 5, 4, 6)));
        Assert.Equal(KdErrorIds.InputShapeMismatch, error.ErrorId);
    }

    [Fact]
    public void PairWise_rejects_a_scale_that_empties_the_pooling_window()
    {
        using var scope = NewDisposeScope();
        // int(3 · 0.25) = 0: no pooling window.
        var error = Assert.Throws<KdException>(() => StructuredKdLoss.PairWise(randn(1, 2, 3, 3), randn(1, 2, 3, 3), 0.25));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, error.ErrorId);
    }

    private static void AssertPixelWiseMatchesGolden(string caseName, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var c = GoldenFile.Load("SKD_PixelWise").Case(caseName);
        var (atol, rtol) = Tolerance(dtype);
        var student = c.Input("preds_S").to_type(dtype).requires_grad_(true);

        var loss = StructuredKdLoss.PixelWise(student, c.Input("preds_T").to_type(dtype));
        loss.backward();

        Assert.Equal(dtype, loss.dtype);
        GoldenAssert.Close(c.ExpectedLoss, loss.ToDouble(), "loss", atol, rtol);
        GoldenAssert.Close(c.ExpectedGrad("preds_S"), student.grad, "grad preds_S", atol, rtol);
    }

    private static void AssertPairWiseMatchesGolden(string caseName, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var c = GoldenFile.Load("SKD_PairWise").Case(caseName);
        var (atol, rtol) = Tolerance(dtype);
        var student = c.Input("feat_S").to_type(dtype).requires_grad_(true);

        var loss = StructuredKdLoss.PairWise(student, c.Input("feat_T").to_type(dtype), c.Param("scale", 0.5));
        loss.backward();

        Assert.Equal(dtype, loss.dtype);
        GoldenAssert.Close(c.ExpectedLoss, loss.ToDouble(), "loss", atol, rtol);
        GoldenAssert.Close(c.ExpectedGrad("feat_S"), student.grad, "grad feat_S", atol, rtol);
    }

    private static (double Atol, double Rtol) Tolerance(ScalarType dtype) =>
        dtype == ScalarType.Float64 ? (GoldenAssert.Atol64, GoldenAssert.Rtol64) : (1e-4, 1e-3);
}
