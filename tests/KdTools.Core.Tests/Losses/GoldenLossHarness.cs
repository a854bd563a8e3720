using KdTools.Core.Tests.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

/// <summary>
/// The inputs of one golden case in the dtype under test. Inputs the file lists under <c>expected.grad</c> are
/// leaves that require grad; the others (teacher side) are plain constants.
/// </summary>
internal sealed class GoldenInputs(GoldenCase goldenCase, ScalarType dtype)
{
    private readonly Dictionary<string, Tensor> _tensors = new();

    public GoldenCase Case { get; } = goldenCase;

    public Tensor this[string name]
    {
        get
        {
            if (_tensors.TryGetValue(name, out var cached)) return cached;
            var tensor = Case.Input(name).to_type(dtype);
            if (Case.GradNames.Contains(name)) tensor.requires_grad_(true);
            return _tensors[name] = tensor;
        }
    }

    public double Param(string name, double fallback) => Case.Param(name, fallback);
}

/// <summary>
/// Runs a golden case through a loss, backpropagates, and compares the loss (or per-layer losses) and every expected
/// gradient with the README tolerance of the dtype: float64 rows for float64, float32 rows for float32.
/// </summary>
internal static class GoldenLossHarness
{
    public static void CheckLoss(string method, string caseName, ScalarType dtype, Func<GoldenInputs, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        var inputs = new GoldenInputs(GoldenFile.Load(method).Case(caseName), dtype);
        var objective = loss(inputs);
        Assert.Equal(dtype, objective.dtype);
        Close(inputs.Case.ExpectedLoss, objective.ToDouble(), $"{method}/{caseName} loss", dtype);
        objective.backward();
        AssertGradients(method, inputs, dtype);
    }

    public static void CheckLayerLosses(string method, string caseName, ScalarType dtype, Func<GoldenInputs, IReadOnlyList<Tensor>> losses)
    {
        using var scope = NewDisposeScope();
        var inputs = new GoldenInputs(GoldenFile.Load(method).Case(caseName), dtype);
        var perLayer = losses(inputs);
        var expected = inputs.Case.ExpectedLosses;
        Assert.Equal(expected.Length, perLayer.Count);
        for (int i = 0; i < expected.Length; i++)
            Close(expected[i], perLayer[i].ToDouble(), $"{method}/{caseName} losses[{i}]", dtype);
        stack(perLayer).sum().backward();
        AssertGradients(method, inputs, dtype);
    }

    public static string FirstCase(string method) => GoldenFile.Load(method).Cases.First().Name;

    public static void Close(double expected, double actual, string what, ScalarType dtype)
    {
        if (dtype == ScalarType.Float32) GoldenAssert.Close(expected, actual, what, Atol32, Rtol32);
        else GoldenAssert.Close(expected, actual, what);
    }

    private const double Atol32 = 1e-4, Rtol32 = 1e-3;

    private static void AssertGradients(string method, GoldenInputs inputs, ScalarType dtype)
    {
        var names = inputs.Case.GradNames.ToArray();
        Assert.NotEmpty(names);
        foreach (var name in names)
        {
            var what = $"{method}/{inputs.Case.Name} grad {name}";
            var expected = inputs.Case.ExpectedGrad(name);
            var actual = inputs[name].grad;
            if (dtype == ScalarType.Float32) GoldenAssert.Close(expected, actual, what, Atol32, Rtol32);
            else GoldenAssert.Close(expected, actual, what);
        }
    }
}
