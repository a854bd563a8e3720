using System.Text.Json;
using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Tests.Losses;

public class ByotLossTests
{
    public static IEnumerable<object[]> Cases => GoldenFile.CaseNames("BYOT");

    [Theory, MemberData(nameof(Cases))]
    public void Matches_golden_in_float64(string caseName) => AssertMatchesGolden(caseName, ScalarType.Float64);

    [Theory, MemberData(nameof(Cases))]
    public void Matches_golden_in_float32(string caseName) => AssertMatchesGolden(caseName, ScalarType.Float32);

    [Fact]
    public void Only_heads_below_the_second_deepest_have_a_feature_term()
    {
        Assert.False(ByotLoss.HasFeatureTerm(0));
        Assert.False(ByotLoss.HasFeatureTerm(1));
        Assert.True(ByotLoss.HasFeatureTerm(2));
        Assert.True(ByotLoss.HasFeatureTerm(3));
    }

    [Fact]
    public void Rejects_an_adapted_feature_for_head_one()
    {
        using var scope = NewDisposeScope();
        var logits = new[] { randn(2, 3), randn(2, 3), randn(2, 3) };
        var feature = randn(2, 4);
        var error = Assert.Throws<KdException>(() =>
            ByotLoss.Compute(logits, feature, [null, randn(2, 4), randn(2, 4)], tensor(new long[] { 0, 1 }), new ByotLossOptions()));
        Assert.Equal(KdErrorIds.FeatureMissing, error.ErrorId);
    }

    [Fact]
    public void Rejects_an_adapted_feature_narrower_than_the_deepest_feature()
    {
        using var scope = NewDisposeScope();
        var logits = new[] { randn(2, 3), randn(2, 3), randn(2, 3) };
        var error = Assert.Throws<KdException>(() =>
            ByotLoss.Compute(logits, randn(2, 4), [null, null, randn(2, 1)], tensor(new long[] { 0, 1 }), new ByotLossOptions()));
        Assert.Equal(KdErrorIds.InputShapeMismatch, error.ErrorId);
    }

    private static void AssertMatchesGolden(string caseName, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var c = GoldenFile.Load("BYOT").Case(caseName);
        var (atol, rtol) = dtype == ScalarType.Float64 ? (GoldenAssert.Atol64, GoldenAssert.Rtol64) : (1e-4, 1e-3);
        var inputs = c.InputNames.Where(n => n != "labels")
            .ToDictionary(n => n, n => c.Input(n).to_type(dtype).requires_grad_(n != "feature0"));
        var logits = Enumerable.Range(0, 4).Select(i => inputs[$"logits{i}"]).ToArray();
        // The README's convention: heads 2 and 3 have a feature term through adapt_i(x) = x·Wᵢᵀ + bᵢ; adapt1 is never applied.
        Tensor Adapt(int head) => linear(inputs[$"feature{head}"], inputs[$"adapt{head}_weight"], inputs[$"adapt{head}_bias"]);
        var options = new ByotLossOptions
        {
            Temperature = c.Param("temperature", 3),
            LossCoefficient = c.Param("loss_coefficient", 0.3),
            FeatureLossCoefficient = c.Param("feature_loss_coefficient", 0.03),
        };

        var result = ByotLoss.Compute(logits, inputs["feature0"], [null, null, Adapt(2), Adapt(3)], c.Input("labels"), options);
        result.Total.backward();

        Assert.Equal(dtype, result.Total.dtype);
        GoldenAssert.Close(c.ExpectedLoss, result.Total.ToDouble(), "loss", atol, rtol);
        foreach (var name in c.GradNames)
        {
            // An input the loss never uses (feature1, adapt1) gets no grad at all: its gradient is zero.
            var actual = inputs[name].grad ?? zeros_like(inputs[name]);
            GoldenAssert.Close(c.ExpectedGrad(name), actual, $"grad {name}", atol, rtol);
        }

        var components = c.Expected.GetProperty("components");
        GoldenAssert.Close(components.GetProperty("ce_deepest").GetDouble(), result.DeepestCrossEntropy.ToDouble(), "ce_deepest", atol, rtol);
        var softCe = components.GetProperty("soft_ce").EnumerateArray().ToArray();
        var ce = components.GetProperty("ce").EnumerateArray().ToArray();
        var featureDistance = components.GetProperty("feature_dist").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Range(1, 3), result.Heads.Select(h => h.Head));
        for (int i = 0; i < result.Heads.Count; i++)
        {
            var head = result.Heads[i];
            GoldenAssert.Close(softCe[i].GetDouble(), head.SoftCrossEntropy.ToDouble(), $"soft_ce[{i}]", atol, rtol);
            GoldenAssert.Close(ce[i].GetDouble(), head.CrossEntropy.ToDouble(), $"ce[{i}]", atol, rtol);
            if (featureDistance[i].ValueKind == JsonValueKind.Null) Assert.Null(head.FeatureDistance);
            else GoldenAssert.Close(featureDistance[i].GetDouble(), head.FeatureDistance!.ToDouble(), $"feature_dist[{i}]", atol, rtol);
        }
    }
}
