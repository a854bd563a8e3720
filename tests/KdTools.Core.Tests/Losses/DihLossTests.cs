using System.Text.Json;
using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class DihLossTests
{
    public static IEnumerable<object[]> KdCases => GoldenFile.CaseNames("KD_DIH");
    public static IEnumerable<object[]> CohortCases => GoldenFile.CaseNames("DIH");

    [Theory, MemberData(nameof(KdCases))]
    public void Kd_matches_golden_in_float64(string caseName) => AssertKdMatchesGolden(caseName, ScalarType.Float64);

    [Theory, MemberData(nameof(KdCases))]
    public void Kd_matches_golden_in_float32(string caseName) => AssertKdMatchesGolden(caseName, ScalarType.Float32);

    [Theory, MemberData(nameof(CohortCases))]
    public void Cohort_matches_golden_in_float64(string caseName) => AssertCohortMatchesGolden(caseName, ScalarType.Float64);

    [Theory, MemberData(nameof(CohortCases))]
    public void Cohort_matches_golden_in_float32(string caseName) => AssertCohortMatchesGolden(caseName, ScalarType.Float32);

    [Fact]
    public void Cohort_rejects_an_alpha_list_that_does_not_match_the_branches()
    {
        using var scope = NewDisposeScope();
        var logits = randn(2, 3);
        var error = Assert.Throws<KdException>(() => DihLoss.Cohort(logits, [randn(2, 3), randn(2, 3)], tensor(new long[] { 0, 1 }), [0.1]));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, error.ErrorId);
    }

    [Fact]
    public void Cohort_rejects_all_branches_skipped()
    {
        using var scope = NewDisposeScope();
        var logits = randn(2, 3);
        var error = Assert.Throws<KdException>(() => DihLoss.Cohort(logits, [randn(2, 3), randn(2, 3)], tensor(new long[] { 0, 1 }), [0.0, 0.0]));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, error.ErrorId);
    }

    [Fact]
    public void Kd_rejects_teacher_logits_of_another_class_count()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<KdException>(() => DihLoss.Kd(randn(2, 3), randn(2, 4), tensor(new long[] { 0, 1 })));
        Assert.Equal(KdErrorIds.InputShapeMismatch, error.ErrorId);
    }

    private static void AssertKdMatchesGolden(string caseName, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var c = GoldenFile.Load("KD_DIH").Case(caseName);
        var (atol, rtol) = Tolerance(dtype);
        var student = c.Input("out_s").to_type(dtype).requires_grad_(true);

        var loss = DihLoss.Kd(student, c.Input("out_t").to_type(dtype), c.Input("target"), c.Param("alpha", 0.1), c.Param("T", 5));
        loss.backward();

        Assert.Equal(dtype, loss.dtype);
        GoldenAssert.Close(c.ExpectedLoss, loss.ToDouble(), "loss", atol, rtol);
        GoldenAssert.Close(c.ExpectedGrad("out_s"), student.grad, "grad out_s", atol, rtol);
    }

    private static void AssertCohortMatchesGolden(string caseName, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var c = GoldenFile.Load("DIH").Case(caseName);
        var (atol, rtol) = Tolerance(dtype);
        var student = c.Input("out_s").to_type(dtype).requires_grad_(true);
        var branches = Enumerable.Range(0, c.InputNames.Count(n => n.StartsWith("out_t"))).Select(b => c.Input($"out_t{b}").to_type(dtype)).ToArray();
        var temperature = c.Param("T", 5);
        var alpha = c.Params.GetProperty("alpha");

        var result = alpha.ValueKind == JsonValueKind.Array
            ? DihLoss.Cohort(student, branches, c.Input("target"), alpha.EnumerateArray().Select(a => a.GetDouble()).ToArray(), temperature)
            : DihLoss.Cohort(student, branches, c.Input("target"), alpha.GetDouble(), temperature);
        result.Total.backward();

        GoldenAssert.Close(c.ExpectedLoss, result.Total.ToDouble(), "loss", atol, rtol);
        GoldenAssert.Close(c.ExpectedGrad("out_s"), student.grad, "grad out_s", atol, rtol);
        var expectedPerBranch = c.Expected.GetProperty("components").GetProperty("per_branch").EnumerateArray().ToArray();
        Assert.Equal(expectedPerBranch.Length, result.PerBranch.Count);
        for (int b = 0; b < expectedPerBranch.Length; b++)
        {
            if (expectedPerBranch[b].ValueKind == JsonValueKind.Null) Assert.Null(result.PerBranch[b]);
            else GoldenAssert.Close(expectedPerBranch[b].GetDouble(), result.PerBranch[b]!.ToDouble(), $"per_branch[{b}]", atol, rtol);
        }
    }

    private static (double Atol, double Rtol) Tolerance(ScalarType dtype) =>
        dtype == ScalarType.Float64 ? (GoldenAssert.Atol64, GoldenAssert.Rtol64) : (1e-4, 1e-3);
}
