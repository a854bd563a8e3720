using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Golden;

/// <summary>
/// Reads <c>../shared/golden/&lt;Method&gt;.json</c> (see its README): cases with float64 inputs, params, the expected
/// loss (or per-layer losses) and the expected gradients of the student-side inputs.
/// </summary>
public sealed class GoldenFile
{
    private GoldenFile(JsonDocument doc) => Document = doc;

    public JsonDocument Document { get; }
    public IEnumerable<GoldenCase> Cases => Document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new GoldenCase(c));

    public static GoldenFile Load(string method) => new(JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, method + ".json"))));

    /// <summary>Case names of a file, for xunit <c>MemberData</c>.</summary>
    public static IEnumerable<object[]> CaseNames(string method) => Load(method).Cases.Select(c => new object[] { c.Name });

    public GoldenCase Case(string name) => Cases.Single(c => c.Name == name);

    /// <summary>The golden folder: <c>shared/golden</c> beside the repository (found by walking up from the test binaries).</summary>
    public static string Directory { get; } = FindDirectory();

    private static string FindDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("KDTOOLS_GOLDEN_DIR");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "golden"), Path.Combine(dir.FullName, "..", "shared", "golden") })
                if (System.IO.Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException("shared/golden not found beside the repository; set KDTOOLS_GOLDEN_DIR to the golden folder");
    }
}

public sealed class GoldenCase
{
    private readonly JsonElement _e;

    public GoldenCase(JsonElement e) => _e = e;

    public string Name => _e.GetProperty("name").GetString()!;
    public override string ToString() => Name;

    public JsonElement Params => _e.TryGetProperty("params", out var p) ? p : default;

    public double Param(string name, double fallback)
    {
        if (Params.ValueKind == JsonValueKind.Object && Params.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number)
            return v.GetDouble();
        return fallback;
    }

    public bool HasParam(string name) => Params.ValueKind == JsonValueKind.Object && Params.TryGetProperty(name, out _);

    public IEnumerable<string> InputNames => _e.GetProperty("inputs").EnumerateObject().Select(p => p.Name);

    /// <summary>An input as a float64 (or int64) tensor; <paramref name="requiresGrad"/> for student-side inputs.</summary>
    public Tensor Input(string name, bool requiresGrad = false)
    {
        var t = ReadTensor(_e.GetProperty("inputs").GetProperty(name));
        return requiresGrad ? t.requires_grad_(true) : t;
    }

    public bool HasInput(string name) => _e.GetProperty("inputs").TryGetProperty(name, out _);

    public JsonElement Expected => _e.GetProperty("expected");

    public double ExpectedLoss => ReadNumber(Expected.GetProperty("loss"));

    public double[] ExpectedLosses => Expected.GetProperty("losses").EnumerateArray().Select(ReadNumber).ToArray();

    public Tensor ExpectedGrad(string name) => ReadTensor(Expected.GetProperty("grad").GetProperty(name));

    public IEnumerable<string> GradNames => Expected.TryGetProperty("grad", out var g) ? g.EnumerateObject().Select(p => p.Name) : [];

    public static double ReadNumber(JsonElement x) => x.ValueKind == JsonValueKind.String
        ? double.Parse(x.GetString()!, CultureInfo.InvariantCulture)
        : x.GetDouble();

    public static Tensor ReadTensor(JsonElement e)
    {
        long[] shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray();
        if (e.TryGetProperty("dtype", out var dt) && dt.GetString() == "int64")
            return torch.tensor(data.Select(x => x.GetInt64()).ToArray(), shape);
        return torch.tensor(data.Select(ReadNumber).ToArray(), shape, ScalarType.Float64);
    }
}

/// <summary>Element-wise comparison with the golden README's tolerance; NaN must match NaN.</summary>
public static class GoldenAssert
{
    public const double Atol64 = 1e-6, Rtol64 = 1e-5;

    public static void Close(double expected, double actual, string what, double atol = Atol64, double rtol = Rtol64)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), $"{what}: expected NaN, got {actual}"); return; }
        Assert.True(Math.Abs(actual - expected) <= atol + rtol * Math.Abs(expected),
            $"{what}: expected {expected:R}, got {actual:R} (diff {Math.Abs(actual - expected):E3})");
    }

    public static void Close(Tensor expected, Tensor? actual, string what, double atol = Atol64, double rtol = Rtol64)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.shape, actual!.shape);
        var e = expected.to_type(ScalarType.Float64).data<double>().ToArray();
        var a = actual.detach().to_type(ScalarType.Float64).data<double>().ToArray();
        for (int i = 0; i < e.Length; i++) Close(e[i], a[i], $"{what}[{i}]", atol, rtol);
    }
}
