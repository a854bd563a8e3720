using KdTools.Core.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Checkpoints;

public sealed class ModuleStateTests : IDisposable
{
    private const string Prefix = "student.";
    private const string What = "the test net";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Collect_prefixes_every_state_dict_key_including_batchnorm_buffers()
    {
        using var net = MakeNet(seed: 1);

        var state = ModuleState.Collect(net, Prefix);

        Assert.Equal(
            ["student.0.weight", "student.0.bias", "student.1.weight", "student.1.bias", "student.3.weight", "student.3.bias",
             "student.1.running_mean", "student.1.running_var", "student.1.num_batches_tracked"],
            state.Select(item => item.Key));
        var live = net.state_dict();
        Assert.All(state, item => Assert.Same(live[item.Key[Prefix.Length..]], item.Value));
    }

    [Fact]
    public void Saved_state_loads_into_a_fresh_model_in_place_with_identical_outputs()
    {
        using var source = MakeNet(seed: 1);
        using var target = MakeNet(seed: 2);
        using var teacher = MakeNet(seed: 3);
        using var scope = NewDisposeScope();
        var input = randn(2, 3, 8, 8, generator: new Generator(7));
        source.train();
        source.call(input); // moves the BatchNorm running statistics away from their initial values
        var path = _folder.File("pair.safetensors");
        SafeTensorsFile.Write(path, [.. ModuleState.Collect(source, Prefix), .. ModuleState.Collect(teacher, "teacher.")], new Dictionary<string, string>());
        var parametersBefore = target.parameters().ToList();

        using (var content = SafeTensorsFile.Read(path))
            ModuleState.Load(target, content.Tensors, Prefix, What);

        var expected = source.state_dict();
        foreach (var (key, value) in target.state_dict())
            Assert.True(expected[key].Equals(value), $"{key} differs after loading");
        Assert.Equal(1L, target.state_dict()["1.num_batches_tracked"].item<long>());
        Assert.Equal(parametersBefore, target.parameters().ToList(), ReferenceEqualityComparer.Instance);
        source.eval();
        target.eval();
        Assert.True(source.call(input).Equals(target.call(input)));
    }

    [Fact]
    public void Load_converts_the_checkpoint_dtype_to_the_models()
    {
        using var source = MakeNet(seed: 1);
        using var target = MakeNet(seed: 2);
        using var scope = NewDisposeScope();
        var doubles = ModuleState.Collect(source, "").ToDictionary(item => item.Key, item => item.Value.to(ScalarType.Float64));

        ModuleState.Load(target, doubles, "", What);

        Assert.Equal(ScalarType.Float32, target.state_dict()["0.weight"].dtype);
        Assert.True(source.state_dict()["0.weight"].Equals(target.state_dict()["0.weight"]));
    }

    [Fact]
    public void Missing_key_is_CheckpointMismatch_naming_it()
    {
        var ex = LoadModified(state => state.Remove("student.3.bias"));

        Assert.Contains("missing: student.3.bias", ex.Message);
    }

    [Fact]
    public void Unexpected_key_under_the_prefix_is_CheckpointMismatch_naming_it()
    {
        var ex = LoadModified(state => state["student.4.weight"] = zeros(2));

        Assert.Contains("unexpected: student.4.weight", ex.Message);
    }

    [Fact]
    public void Wrong_shape_is_CheckpointMismatch_naming_the_key_and_both_shapes()
    {
        var ex = LoadModified(state => state["student.3.weight"] = zeros(5, 10));

        Assert.Contains("wrong shape: student.3.weight (checkpoint [5, 10], model [5, 144])", ex.Message);
    }

    [Fact]
    public void Failed_load_changes_nothing()
    {
        using var source = MakeNet(seed: 1);
        using var target = MakeNet(seed: 2);
        using var scope = NewDisposeScope();
        var before = target.state_dict()["0.weight"].clone();
        var state = ModuleState.Collect(source, "").ToDictionary(item => item.Key, item => item.Value);
        state.Remove("3.bias");

        Assert.Throws<KdException>(() => ModuleState.Load(target, state, "", What));

        Assert.True(before.Equals(target.state_dict()["0.weight"]));
    }

    private static KdException LoadModified(Action<Dictionary<string, Tensor>> modify)
    {
        using var source = MakeNet(seed: 1);
        using var target = MakeNet(seed: 2);
        using var scope = NewDisposeScope();
        var state = ModuleState.Collect(source, Prefix).ToDictionary(item => item.Key, item => item.Value);
        modify(state);

        var ex = Assert.Throws<KdException>(() => ModuleState.Load(target, state, Prefix, What));

        Assert.Equal(KdErrorIds.CheckpointMismatch, ex.ErrorId);
        Assert.Contains("does not fit the test net", ex.Message);
        return ex;
    }

    /// <summary>Conv 3→4 (3x3, 8x8 input → 6x6), BatchNorm, Flatten, Linear 144→5: small, with parameters and buffers.</summary>
    private static Sequential MakeNet(int seed)
    {
        manual_seed(seed);
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 6 * 6, 5));
    }
}
