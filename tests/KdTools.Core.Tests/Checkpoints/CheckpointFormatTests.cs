using KdTools.Core.Checkpoints;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Checkpoints;

/// <summary>
/// What a KdTools file holds: the network's plain state dict (format 2), format-1 files still read, and metadata that
/// was edited by hand failing with a checkpoint id instead of a parser's exception.
/// </summary>
public sealed class CheckpointFormatTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static ClassifierNet Network(long seed = 5)
    {
        var model = ArchitectureRegistry.Create("resnet8", 4, seed);
        model.Normalization = new Core.Data.InputNormalization([0.5f, 0.4f, 0.3f], [0.2f, 0.2f, 0.2f]);
        model.InputSize = new ImageSize(16, 16);
        return model;
    }

    [Fact]
    public void A_model_file_is_the_network_s_plain_state_dict()
    {
        using var model = Network();
        var path = _folder.File("model.safetensors");
        ModelFile.Save(path, model, new ModelProvenance { Method = "CE" });

        using var content = SafeTensorsFile.Read(path);
        Assert.Equal(model.state_dict().Keys.Order(), content.Tensors.Keys.Order());
        Assert.Equal("2", content.Metadata[CheckpointMetadata.Version]);
        Assert.Equal("16,16", content.Metadata[CheckpointMetadata.InputSize]);
        using var loaded = ModelFile.Load(path).Model;
        Assert.Equal(new ImageSize(16, 16), loaded.InputSize);
    }

    [Fact]
    public void No_registered_architecture_has_a_state_key_under_a_reserved_prefix()
    {
        foreach (var name in new[] { "resnet8", "resnet8x4", "wrn_16_2", "vgg8_bn", "resnet18" })
        {
            using var model = ArchitectureRegistry.Create(name, 10);
            var clash = model.state_dict().Keys.Where(k => CheckpointMetadata.ReservedPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)));
            Assert.Empty(clash);
        }
    }

    [Fact]
    public void A_format_1_file_with_model_prefixed_entries_still_loads()
    {
        using var model = Network();
        var current = _folder.File("current.safetensors");
        ModelFile.Save(current, model, new ModelProvenance { Method = "KD" });
        var legacy = _folder.File("legacy.safetensors");
        using (var content = SafeTensorsFile.Read(current))
        {
            var metadata = content.Metadata.ToDictionary(m => m.Key, m => m.Value);
            metadata[CheckpointMetadata.Version] = "1";
            SafeTensorsFile.Write(legacy, content.Tensors.Select(t => KeyValuePair.Create("model." + t.Key, t.Value)).ToList(), metadata);
        }

        using var loaded = ModelFile.Load(legacy).Model;
        var imported = ModelImport.Load(new ModelImportRequest { Path = legacy, Classes = 3, SkipClassifier = true });
        using (imported.Model) Assert.Equal(["fc.weight [4, 64]", "fc.bias [4]"], imported.SkippedKeys);
        var expected = TinySetup.Weights(model);
        var actual = TinySetup.Weights(loaded);
        foreach (var key in expected.Keys) Assert.Equal(expected[key], actual[key]);
    }

    /// <summary>Each field of a model file, edited to what KdTools never writes, and the id loading then fails with.</summary>
    [Theory]
    [InlineData("format_version", "two", KdErrorIds.CheckpointCorrupt)]
    [InlineData("format_version", "0", KdErrorIds.CheckpointCorrupt)]
    [InlineData("format_version", "3", KdErrorIds.CheckpointMismatch)]
    [InlineData("classes", "four", KdErrorIds.CheckpointCorrupt)]
    [InlineData("classes", "-4", KdErrorIds.CheckpointCorrupt)]
    [InlineData("classes", "7", KdErrorIds.CheckpointMismatch)]
    [InlineData("architecture", "", KdErrorIds.CheckpointCorrupt)]
    [InlineData("architecture", "resnet9000", KdErrorIds.CheckpointMismatch)]
    [InlineData("normalization", "{\"mean\": [0.5]", KdErrorIds.CheckpointCorrupt)]
    [InlineData("input_size", "sixteen", KdErrorIds.CheckpointCorrupt)]
    [InlineData("heads_configuration", "stages=1;inputs=x", KdErrorIds.CheckpointCorrupt)]
    [InlineData("heads_configuration", "stages=1,2;inputs=-5,7;classes=3", KdErrorIds.CheckpointCorrupt)]
    [InlineData("heads_configuration", "stages=1,2;inputs=16,16;classes=0", KdErrorIds.CheckpointCorrupt)]
    // Two heads of a billion inputs each: 6 billion values (24 GB) for a file that holds a few hundred; refused unbuilt.
    [InlineData("heads_configuration", "stages=1,2;inputs=1000000000,1000000000;classes=3", KdErrorIds.CheckpointMismatch)]
    [InlineData("heads_configuration", "stages=1,2;inputs=9223372036854775807,9223372036854775807;classes=2147483647", KdErrorIds.CheckpointMismatch)]
    [InlineData("format", "kdtools.checkpoint.v9", KdErrorIds.CheckpointCorrupt)]
    public void Edited_model_metadata_fails_with_a_checkpoint_id(string field, string value, string errorId)
    {
        using var backbone = Network();
        using var heads = LinearStageHeads.For(backbone, [1, 2], 3, 16, 16);
        var path = _folder.File("edited.safetensors");
        ModelFile.Save(path, new MultiExitNet(backbone, heads), new ModelProvenance { Method = "CE" });
        Edit(path, field, value);

        var ex = Assert.Throws<KdException>(() => ModelFile.Load(path));

        Assert.Equal(errorId, ex.ErrorId);
        Assert.Contains(path, ex.Message);
    }

    /// <summary>
    /// Exit heads are sized by the metadata's heads_configuration, so their size is computed from it without building
    /// them: it must be exactly what the built heads hold, or the bound that refuses an edited configuration is wrong.
    /// </summary>
    [Theory]
    [InlineData("linear-stage", "stages=1;inputs=4096;classes=10")]
    [InlineData("linear-stage", "stages=1,2,3;inputs=4096,2048,1024;classes=100")]
    [InlineData("byot", "channels=16,32,64;classes=10")]
    [InlineData("byot", "channels=3,5;classes=2")]
    [InlineData("byot", "channels=16,16,32,64;classes=7")]
    public void The_heads_size_computed_from_a_configuration_is_the_built_heads_size(string kind, string configuration)
    {
        using var backbone = Network();
        using var heads = ExitHeadsRegistry.Create(kind, backbone, configuration);
        long built = heads.state_dict().Where(e => !e.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).Sum(e => e.Value.numel());

        Assert.Equal(built, ExitHeadsRegistry.StateElements(kind, configuration));
    }

    [Theory]
    [InlineData("channels=100000,100000,100000;classes=10", KdErrorIds.CheckpointMismatch)]
    [InlineData("channels=16,-32;classes=10", KdErrorIds.CheckpointCorrupt)]
    [InlineData("channels=2147483647,2147483647;classes=2147483647", KdErrorIds.CheckpointMismatch)]
    public void Byot_branches_sized_beyond_the_file_are_refused_before_they_are_built(string configuration, string errorId)
    {
        using var backbone = Network();
        using var heads = LinearStageHeads.For(backbone, [1, 2], 3, 16, 16);
        var path = _folder.File("byot.safetensors");
        ModelFile.Save(path, new MultiExitNet(backbone, heads), new ModelProvenance { Method = "CE" });
        Edit(path, "heads_kind", "byot");
        Edit(path, "heads_configuration", configuration);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<KdException>(() => ModelFile.Load(path));

        Assert.Equal(errorId, ex.ErrorId);
        Assert.Contains(path, ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20, "the refusal allocated the heads");
    }

    [Theory]
    [InlineData("run", "{\"stage\": \"train\", \"epoch\": \"two\"}")]
    [InlineData("run", "null")]
    [InlineData("run_identity", "[1, 2]")]
    public void Edited_run_state_fails_a_resume_as_corrupt(string field, string value)
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var folder = TinySetup.TempFolder();
        var request = new DistillationRequest
        {
            Dataset = data, StudentArchitecture = "resnet8", MethodName = "CE", Settings = TinySetup.Settings(1, folder),
        };
        var run = Distillation.Run(request);
        Edit(run.LastCheckpoint!, field, value);

        var ex = Assert.Throws<KdException>(() => Distillation.Run(request with { ResumeFrom = run.LastCheckpoint }));

        Assert.Equal(KdErrorIds.CheckpointCorrupt, ex.ErrorId);
        Assert.Contains($"'{field}'", ex.Message);
    }

    private static void Edit(string path, string field, string value)
    {
        using var content = SafeTensorsFile.Read(path);
        var metadata = content.Metadata.ToDictionary(m => m.Key, m => m.Value);
        metadata[field] = value;
        var tensors = content.Tensors.ToList();
        SafeTensorsFile.Write(path, tensors, metadata);
    }
}
