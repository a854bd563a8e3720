using KdTools.Core.Checkpoints;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Checkpoints;

/// <summary>
/// Importing weights: plain state dicts as PyTorch writes them (here produced from KdTools' own state, then edited the
/// way PyTorch files differ or go wrong), and KdTools checkpoints. tests/pester/Models.Tests.ps1 loads files that PyTorch
/// itself wrote.
/// </summary>
public sealed class ModelImportTests : IDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_plain_state_dict_loads_into_the_named_architecture_with_identical_outputs()
    {
        using var source = Trained("resnet8", 5);
        var path = WritePlain("plain.safetensors", source, _ => true);

        var imported = ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet8", Classes = 5 });
        using var model = imported.Model;

        Assert.False(imported.IsKdToolsCheckpoint);
        Assert.Equal(("resnet8", 5), (model.Architecture, model.NumClasses));
        Assert.Empty(imported.SkippedKeys);
        Assert.Empty(imported.InitializedKeys);
        AssertSameOutputs(source, model);
    }

    [Fact]
    public void Float64_tensors_are_converted_and_absent_batchnorm_counters_are_tolerated()
    {
        using var source = Trained("resnet8", 5);
        var path = _folder.File("f64.safetensors");
        var state = ModuleState.Collect(source, "")
            .Where(kv => !kv.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value.to_type(ScalarType.Float64)))
            .ToList();
        SafeTensorsFile.Write(path, state, NoMetadata);

        var imported = ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet8", Classes = 5 });
        using var model = imported.Model;

        Assert.Equal(ScalarType.Float32, model.parameters().First().dtype);
        Assert.Equal(source.state_dict().Keys.Where(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).Order(),
            imported.InitializedKeys.Order());
        AssertSameOutputs(source, model, tolerance: 1e-5);
    }

    [Fact]
    public void Missing_unexpected_and_misshaped_keys_are_all_listed_in_one_error_naming_the_file()
    {
        using var source = Trained("resnet8", 5);
        var path = _folder.File("broken.safetensors");
        var state = ModuleState.Collect(source, "")
            .Where(kv => kv.Key != "layer2.0.bn1.running_var")
            .Select(kv => kv.Key == "fc.weight" ? KeyValuePair.Create("classifier.weight", kv.Value) : kv)
            .Select(kv => kv.Key == "conv1.weight" ? KeyValuePair.Create(kv.Key, kv.Value.narrow(0, 0, 8)) : kv)
            .ToList();
        SafeTensorsFile.Write(path, state, NoMetadata);

        var ex = Assert.Throws<KdException>(() => ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet8", Classes = 5 }));

        Assert.Equal(KdErrorIds.CheckpointMismatch, ex.ErrorId);
        Assert.Contains($"'{path}'", ex.Message);
        // Parameters come before buffers in a state dict, so the missing fc.weight is listed first.
        Assert.Contains("missing: fc.weight, layer2.0.bn1.running_var", ex.Message);
        Assert.Contains("unexpected: classifier.weight", ex.Message);
        Assert.Contains("wrong shape: conv1.weight (checkpoint [8, 3, 3, 3], model [16, 3, 3, 3])", ex.Message);
    }

    [Fact]
    public void The_wrong_architecture_or_class_count_fails_strictly()
    {
        using var source = Trained("resnet8", 5);
        var path = WritePlain("plain.safetensors", source, _ => true);

        var wrongArchitecture = Assert.Throws<KdException>(() =>
            ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet14", Classes = 5 }));
        var wrongClasses = Assert.Throws<KdException>(() =>
            ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet8", Classes = 10 }));

        Assert.Equal(KdErrorIds.CheckpointMismatch, wrongArchitecture.ErrorId);
        Assert.Contains("missing: layer1.1.conv1.weight", wrongArchitecture.Message);
        Assert.Equal(KdErrorIds.CheckpointMismatch, wrongClasses.ErrorId);
        Assert.Contains("wrong shape: fc.weight (checkpoint [5, 64], model [10, 64]), fc.bias (checkpoint [5], model [10])", wrongClasses.Message);
    }

    [Fact]
    public void A_plain_state_dict_needs_its_architecture_and_class_count()
    {
        using var source = Trained("resnet8", 5);
        var path = WritePlain("plain.safetensors", source, _ => true);

        var ex = Assert.Throws<KdException>(() => ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet8" }));

        Assert.Equal(KdErrorIds.CheckpointArchitectureRequired, ex.ErrorId);
    }

    [Fact]
    public void Skipping_the_classifier_loads_the_backbone_for_another_class_count()
    {
        using var source = Trained("resnet8", 10);
        var path = WritePlain("ten.safetensors", source, _ => true);

        var imported = ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet8", Classes = 4, SkipClassifier = true, Seed = 3 });
        using var model = imported.Model;
        using var fresh = ArchitectureRegistry.Create("resnet8", 4, seed: 3);

        Assert.Equal(4, model.NumClasses);
        Assert.Equal(["fc.weight [10, 64]", "fc.bias [10]"], imported.SkippedKeys);
        Assert.Equal(["fc.weight", "fc.bias"], imported.InitializedKeys);
        var loaded = model.state_dict();
        foreach (var (key, value) in source.state_dict().Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)))
            Assert.True(value.Equals(loaded[key]), $"{key} was not loaded");
        Assert.True(fresh.state_dict()["fc.weight"].Equals(loaded["fc.weight"]), "the classifier is not the seeded initial one");
    }

    [Theory]
    [InlineData("resnet18", "linear")]
    [InlineData("vgg8", "classifier")]
    [InlineData("wrn_16_2", "fc")]
    public void The_classifier_is_found_in_every_family(string architecture, string classifier)
    {
        using var source = Trained(architecture, 10, train: false);
        var path = WritePlain("ten.safetensors", source, _ => true);

        var imported = ModelImport.Load(new ModelImportRequest { Path = path, Architecture = architecture, Classes = 3, SkipClassifier = true });
        imported.Model.Dispose();

        Assert.Equal([$"{classifier}.weight", $"{classifier}.bias"], imported.SkippedKeys.Select(k => k.Split(' ')[0]));
    }

    [Fact]
    public void A_kdtools_checkpoint_loads_without_naming_it_and_is_checked_against_what_is_named()
    {
        using var source = Trained("resnet8", 5);
        var path = _folder.File("ours.safetensors");
        ModelFile.Save(path, source, new ModelProvenance { Method = "KD", Dataset = "synthetic", Epochs = 3, TestTop1 = 0.5 });

        var imported = ModelImport.Load(new ModelImportRequest { Path = path });
        using (imported.Model)
        {
            Assert.True(imported.IsKdToolsCheckpoint);
            Assert.Equal(("KD", 0.5), (imported.Provenance.Method, imported.Provenance.TestTop1));
            AssertSameOutputs(source, imported.Model);
        }
        var wrong = Assert.Throws<KdException>(() => ModelImport.Load(new ModelImportRequest { Path = path, Architecture = "resnet14" }));
        Assert.Equal(KdErrorIds.CheckpointMismatch, wrong.ErrorId);
        Assert.Contains("holds a resnet8, not a resnet14", wrong.Message);

        var refit = ModelImport.Load(new ModelImportRequest { Path = path, Classes = 3, SkipClassifier = true });
        using (refit.Model)
        {
            Assert.Equal(3, refit.Model.NumClasses);
            Assert.Equal(["fc.weight [5, 64]", "fc.bias [5]"], refit.SkippedKeys);
            Assert.True(double.IsNaN(refit.Provenance.TestTop1), "a new classifier keeps the old accuracy");
        }
    }

    /// <summary>A network whose BatchNorm statistics have moved away from their initial values (so loading them matters).</summary>
    private static ClassifierNet Trained(string architecture, int classes, bool train = true)
    {
        var model = ArchitectureRegistry.Create(architecture, classes, seed: 11);
        if (!train) return model;
        using var scope = NewDisposeScope();
        model.train();
        using (no_grad()) model.call(randn(4, 3, 16, 16, generator: new Generator(5)));
        return model;
    }

    private string WritePlain(string name, ClassifierNet model, Func<string, bool> keep)
    {
        var path = _folder.File(name);
        SafeTensorsFile.Write(path, ModuleState.Collect(model, "").Where(kv => keep(kv.Key)).ToList(), NoMetadata);
        return path;
    }

    private static void AssertSameOutputs(ClassifierNet expected, ClassifierNet actual, double tolerance = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(3, 3, 16, 16, generator: new Generator(9));
        expected.eval();
        actual.eval();
        var a = expected.call(input);
        var b = actual.call(input);
        Assert.True(tolerance == 0 ? a.Equals(b) : a.allclose(b, rtol: 0, atol: tolerance), "outputs differ");
    }
}
