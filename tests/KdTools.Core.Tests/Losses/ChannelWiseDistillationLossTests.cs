using System.Text.Json;
using KdTools.Core.Losses;
using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

/// <summary>CWD against Reference/CWD.json (PyTorch, written by channel_wise_distillation.py) and a hand-computed case.</summary>
public class ChannelWiseDistillationLossTests
{
    private static readonly Lazy<GoldenCase[]> Cases = new(() => JsonDocument.Parse(File.ReadAllText(
            Path.Combine(AppContext.BaseDirectory, "Losses", "Reference", "CWD.json")))
        .RootElement.GetProperty("cases").EnumerateArray().Select(c => new GoldenCase(c)).ToArray());

    public static TheoryData<string, ScalarType> CaseNames()
    {
        var data = new TheoryData<string, ScalarType>();
        foreach (var c in Cases.Value)
        {
            data.Add(c.Name, ScalarType.Float64);
            data.Add(c.Name, ScalarType.Float32);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Matches_pytorch_loss_and_gradient(string name, ScalarType dtype)
    {
        var goldenCase = Cases.Value.Single(c => c.Name == name);
        using var scope = NewDisposeScope();
        var student = goldenCase.Input("preds_S").to_type(dtype).requires_grad_(true);
        var teacher = goldenCase.Input("preds_T").to_type(dtype);
        // The README tolerances: float64 atol 1e-6, rtol 1e-5; float32 atol 1e-4, rtol 1e-3.
        var (atol, rtol) = dtype == ScalarType.Float64 ? (1e-6, 1e-5) : (1e-4, 1e-3);

        var loss = ChannelWiseDistillationLoss.Compute(student, teacher, goldenCase.Param("tau", double.NaN));
        loss.backward();

        Assert.Equal(dtype, loss.dtype);
        Assert.InRange(loss.ToDouble(), goldenCase.ExpectedLoss - atol - rtol * Math.Abs(goldenCase.ExpectedLoss),
            goldenCase.ExpectedLoss + atol + rtol * Math.Abs(goldenCase.ExpectedLoss));
        Assert.True(student.grad!.to_type(ScalarType.Float64).allclose(goldenCase.ExpectedGrad("preds_S"), rtol, atol));
    }

    [Fact]
    public void A_hand_computed_two_position_map()
    {
        using var scope = NewDisposeScope();
        const double tau = 4;
        // Teacher softmax over two positions (τ·ln 3, 0)/τ = (3/4, 1/4); the student's flat map gives (1/2, 1/2).
        var teacher = tensor(new[] { tau * Math.Log(3), 0 }).view(1, 1, 1, 2);
        var student = zeros(1, 1, 1, 2, ScalarType.Float64);

        var loss = ChannelWiseDistillationLoss.Compute(student, teacher, tau).item<double>();

        Assert.Equal(tau * tau * (0.75 * Math.Log(0.75 / 0.5) + 0.25 * Math.Log(0.25 / 0.5)), loss, 12);
    }

    [Fact]
    public void Rejects_maps_of_different_shapes_and_a_bad_temperature()
    {
        using var scope = NewDisposeScope();
        var shape = Assert.Throws<KdException>(() => ChannelWiseDistillationLoss.Compute(randn(1, 3, 4, 4), randn(1, 3, 8, 8)));
        var temperature = Assert.Throws<KdException>(() => ChannelWiseDistillationLoss.Compute(randn(1, 3, 4, 4), randn(1, 3, 4, 4), 0));

        Assert.Equal(KdErrorIds.LossShapeMismatch, shape.ErrorId);
        Assert.Equal(KdErrorIds.MethodOptionInvalid, temperature.ErrorId);
    }
}
