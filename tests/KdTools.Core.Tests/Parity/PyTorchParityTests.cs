using KdTools.Core.Checkpoints;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

/// <summary>
/// KdTools against independent PyTorch definitions (tests/parity): every architecture's outputs, features and BatchNorm
/// statistics from the same weights, and every method's training steps from the same weights and batches.
/// </summary>
public class PyTorchParityTests(ParityFixture fixture, ITestOutputHelper output) : IClassFixture<ParityFixture>
{
    private static ParityConfiguration Configuration => ParityConfiguration.Current;

    public static IEnumerable<object[]> Architectures() => Configuration.ModelDtypes.SelectMany(d =>
        Configuration.Architectures.Select(a => new object[] { a, ParityConfiguration.DtypeName(d) }));

    public static IEnumerable<object[]> TrainingCases() => Configuration.TrainingDtypes.SelectMany(d =>
        Configuration.Training.Select(c => new object[] { c.Name, ParityConfiguration.DtypeName(d) }));

    [Fact]
    public void PyTorch_compares_every_exported_architecture_and_run()
    {
        output.WriteLine(fixture.Table);
        output.WriteLine(fixture.Summary);
        var expected = Architectures().Select(a => ("model", (string)a[0], (string)a[1]))
            .Concat(TrainingCases().Select(c => ("training", (string)c[0], (string)c[1])));
        Assert.Equal(expected.Order(), fixture.Rows.Select(r => (r.Kind, r.Name, r.Dtype)).Order());
    }

    /// <summary>Save-KdModel's file loads with load_state_dict(strict=True); logits, features and BN statistics agree.</summary>
    [Theory]
    [MemberData(nameof(Architectures))]
    public void Architecture_matches_its_PyTorch_definition(string architecture, string dtype)
    {
        var row = fixture.Row("model", architecture, dtype);
        Assert.True(row.Passed, row.Describe());
    }

    /// <summary>Every loss term of every step, the final weights, the updates and the buffers agree with a PyTorch replay.</summary>
    [Theory]
    [MemberData(nameof(TrainingCases))]
    public void Method_matches_its_PyTorch_replay_step_by_step(string trainingCase, string dtype)
    {
        var row = fixture.Row("training", trainingCase, dtype);
        Assert.True(row.Passed, row.Describe());
    }

    /// <summary>
    /// The other direction: the state dict PyTorch wrote (its network after the train-mode pass) loads strictly into the
    /// KdTools network, with the parameters bit for bit and the BatchNorm buffers as KdTools' own train-mode pass left them.
    /// </summary>
    [Theory]
    [MemberData(nameof(Architectures))]
    public void PyTorch_state_dict_loads_strictly_into_KdTools(string architecture, string dtype)
    {
        var scalarType = dtype == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var folder = fixture.ModelFolder(architecture, scalarType);
        using var saved = SafeTensorsFile.Read(Path.Combine(folder, ModelParityExport.ModelFileName));
        using var expected = SafeTensorsFile.Read(Path.Combine(folder, ModelParityExport.ExpectedFileName));
        using var written = SafeTensorsFile.Read(Path.Combine(folder, ModelParityExport.PyTorchStateFileName));
        using var model = ModelParityExport.Create(architecture, scalarType, seed: 0);
        ModuleState.Load(model, written.Tensors, "", $"{architecture} from PyTorch");

        double tolerance = dtype == "float64" ? 1e-9 : 1e-4;
        var parameters = model.named_parameters().Select(p => p.name).ToHashSet();
        using var scope = NewDisposeScope();
        foreach (var (key, value) in model.state_dict())
        {
            if (parameters.Contains(key))
                Assert.True(value.equal(saved.Tensors[key]).all().item<bool>(),
                    $"{key} changed on its way through PyTorch");
            else
            {
                var kdtools = expected.Tensors[$"state/{key}"].to_type(ScalarType.Float64);
                double scale = Math.Max(kdtools.abs().max().item<double>(), double.Epsilon);
                double error = (value.to_type(ScalarType.Float64) - kdtools).abs().max().item<double>() / scale;
                Assert.True(error <= tolerance, $"{key}: PyTorch's buffer differs from KdTools' by {error:G3} (relative)");
            }
        }
    }
}
