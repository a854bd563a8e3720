using KdTools.Core.Checkpoints;
using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Export;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;
using static KdTools.Testing.TestNetworks;

namespace KdTools.Core.Tests.Export;

/// <summary>
/// ONNX export of every registered architecture, run back through ONNX Runtime: the same logits as TorchSharp's eval
/// forward (BatchNorms with far-from-identity statistics, so the folding is exercised), the graph's declared interface
/// and metadata, exits, in-graph normalisation, and files that must not load.
/// </summary>
public sealed class OnnxExportTests : IDisposable
{
    private const double Tolerance = 1e-4;
    private readonly string _folder = TinySetup.TempFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Architectures()
    {
        var data = new TheoryData<string>();
        foreach (var info in ArchitectureRegistry.All) data.Add(info.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void OnnxRuntime_gives_TorchSharps_eval_logits(string architecture)
    {
        var info = ArchitectureRegistry.Get(architecture);
        int side = info.Task == PredictionTask.Segmentation ? 32 : 16;
        using var network = TrainedLooking(architecture, classes: 5, side);
        var path = Path.Combine(_folder, $"{architecture}.onnx");
        OnnxExport.Save(path, network, new ModelProvenance { Method = "KD" }, new OnnxExportOptions());
        using var onnx = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path });

        Assert.Equal(5, onnx.NumClasses);
        Assert.Equal(info.Task, onnx.Task);
        Assert.Equal(new ImageSize(side, side), onnx.InputSize);
        // Two batch sizes through one file: the batch dimension is dynamic.
        foreach (int batch in new[] { 3, 1 })
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = randn([batch, 3, side, side], generator: new Generator((ulong)batch));
            var expected = network.Run(input).Logits;
            if (info.Task == PredictionTask.Segmentation) expected = SegmentationNet.ResizeLogits(expected, side, side);
            var actual = onnx.Run(input).Logits;
            Assert.Equal(expected.shape, actual.shape);
            AssertClose(expected, actual, $"{architecture} batch {batch}");
        }
    }

    [Fact]
    public void Every_registered_architecture_is_exportable()
    {
        var missing = ArchitectureRegistry.All.Where(info =>
        {
            using var network = ArchitectureRegistry.Create(info.Name, 3);
            return network is not IOnnxExportable;
        }).Select(info => info.Name).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void The_graph_declares_its_interface_and_metadata()
    {
        using var network = TrainedLooking("resnet8", classes: 4, side: 16);
        var options = new OnnxExportOptions { ClassNames = ["cat", "dog", "ship", "frog"], Seed = 42 };
        var proto = OnnxExport.Build(network, new ModelProvenance { Method = "DKD", Dataset = "synthetic", Epochs = 3 }, options);

        Assert.True(proto.OpsetImport.Single(o => o.Domain == "").Version >= 17);
        var input = proto.Graph.Input.Single();
        Assert.Equal("input", input.Name);
        var dims = input.Type.TensorType.Shape.Dim;
        Assert.Equal("N", dims[0].DimParam);
        Assert.Equal(new long[] { 3, 16, 16 }, dims.Skip(1).Select(d => d.DimValue));
        Assert.Equal(1, input.Type.TensorType.ElemType);
        var output = proto.Graph.Output.Single();
        Assert.Equal("logits", output.Name);
        Assert.Equal("N", output.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(4, output.Type.TensorType.Shape.Dim[1].DimValue);
        // Folded: no BatchNormalization node is left in a ResNet.
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "BatchNormalization");

        var metadata = proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("resnet8", metadata["architecture"]);
        Assert.Equal("4", metadata["classes"]);
        Assert.Equal("[\"cat\",\"dog\",\"ship\",\"frog\"]", metadata["class_names"]);
        Assert.Equal("16,16", metadata["input_size"]);
        Assert.Equal("0.5,0.25,0.125", metadata["mean"]);
        Assert.Equal("0.5,0.5,0.25", metadata["std"]);
        Assert.Equal("DKD", metadata["method"]);
        Assert.Equal("42", metadata["seed"]);
        Assert.Equal("kdtools.onnx", metadata["format"]);
        Assert.False(string.IsNullOrEmpty(metadata["kdtools_version"]));
        Assert.Equal(network.ParameterCount().ToString(), metadata["parameters"]);
    }

    [Fact]
    public void Normalization_in_the_graph_takes_raw_pixels()
    {
        using var network = TrainedLooking("resnet8", classes: 4, side: 16);
        var path = Path.Combine(_folder, "raw.onnx");
        OnnxExport.Save(path, network, new ModelProvenance(), new OnnxExportOptions { IncludeNormalization = true });
        using var onnx = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path });
        // What the evaluator feeds it: pixels normalised by mean 0 and std 1, i.e. as they are.
        Assert.Equal(new float[] { 0, 0, 0 }, onnx.Normalization!.Mean);
        Assert.Equal(new float[] { 1, 1, 1 }, onnx.Normalization.Std);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = rand([2, 3, 16, 16], generator: new Generator(3));
        var normalised = (pixels - tensor(network.Normalization!.Mean).view(1, 3, 1, 1)) / tensor(network.Normalization.Std).view(1, 3, 1, 1);
        AssertClose(network.Run(normalised).Logits, onnx.Run(pixels).Logits, "resnet8 with normalisation");
    }

    [Theory]
    [InlineData("DIH")]
    [InlineData("BYOT")]
    public void Exits_export_the_final_one_by_default_and_all_on_request(string kind)
    {
        using var backbone = TrainedLooking("resnet8", classes: 4, side: 16);
        ExitHeads heads = kind == "DIH"
            ? LinearStageHeads.For(backbone, [1, 2, 3], 3, 16, 16)
            : new ByotBranches([16, 32, 64], 4);
        using var model = new MultiExitNet(backbone, heads);
        model.eval();
        var finalOnly = Path.Combine(_folder, "final.onnx");
        var all = Path.Combine(_folder, "all.onnx");
        OnnxExport.Save(finalOnly, model, new ModelProvenance(), new OnnxExportOptions());
        OnnxExport.Save(all, model, new ModelProvenance(), new OnnxExportOptions { AllExits = true });
        using var final = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = finalOnly });
        using var every = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = all });

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn([2, 3, 16, 16], generator: new Generator(4));
        var expected = model.Run(input);
        Assert.Empty(final.Run(input).Exits);
        AssertClose(expected.Logits, final.Run(input).Logits, $"{kind} final");
        var exits = every.Run(input);
        AssertClose(expected.Logits, exits.Logits, $"{kind} final of all");
        Assert.Equal(heads.ExitNames.Order(), exits.Exits.Keys.Order());
        foreach (var (name, logits) in expected.Exits) AssertClose(logits, exits.Exits[name], $"{kind} {name}");
    }

    [Fact]
    public void Measure_gives_the_same_top1_through_both_runtimes()
    {
        using var data = TinySetup.Dataset(train: 32, test: 96, classes: 4);
        using var network = TrainedLooking("resnet8", classes: 4, side: 16);
        network.Normalization = data.Normalization;
        var path = Path.Combine(_folder, "measured.onnx");
        OnnxExport.Save(path, network, new ModelProvenance(), new OnnxExportOptions());
        using var onnx = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path });

        var torchResult = Evaluator.Evaluate(network, data.Test, data.Normalization, CPU, batchSize: 32);
        var onnxResult = Evaluator.Evaluate(onnx, data.Test, data.Normalization, CPU, batchSize: 32);
        Assert.Equal(torchResult.Count, onnxResult.Count);
        Assert.Equal(torchResult.Top1, onnxResult.Top1);
        Assert.Equal(torchResult.Top5, onnxResult.Top5);
        Assert.Equal(torchResult.Loss, onnxResult.Loss, 4);
    }

    [Fact]
    public void A_truncated_or_corrupted_file_is_Checkpoint_Corrupt_naming_it()
    {
        using var network = TrainedLooking("resnet8", classes: 4, side: 16);
        var bytes = OnnxExport.ToBytes(network, new ModelProvenance(), new OnnxExportOptions());
        var damaged = new Dictionary<string, byte[]>
        {
            ["truncated.onnx"] = bytes[..(bytes.Length / 2)],
            ["header-only.onnx"] = bytes[..16],
            ["empty.onnx"] = [],
            ["noise.onnx"] = Noise(4096),
            ["flipped.onnx"] = Flipped(bytes),
        };
        foreach (var (name, content) in damaged)
        {
            var path = Path.Combine(_folder, name);
            File.WriteAllBytes(path, content);
            var error = Assert.Throws<KdException>(() => OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path }).Dispose());
            Assert.True(error.ErrorId == KdErrorIds.CheckpointCorrupt, $"{name}: {error.ErrorId} {error.Message}");
            Assert.Contains(path, error.Message);
        }
    }

    [Fact]
    public void Tensors_are_checked_before_ONNX_Runtime_and_its_own_errors_are_Checkpoint_Corrupt_naming_the_file()
    {
        using var network = TrainedLooking("resnet8", classes: 4, side: 16);
        KdException Load(string name, Action<Onnx.ModelProto> damage)
        {
            var proto = OnnxExport.Build(network, new ModelProvenance(), new OnnxExportOptions());
            damage(proto);
            var path = Path.Combine(_folder, name);
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(proto));
            var error = Assert.Throws<KdException>(() => OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path }).Dispose());
            Assert.Contains(path, error.Message);
            return error;
        }
        Onnx.TensorProto Weights(Onnx.ModelProto proto) => proto.Graph.Initializer.First(t => t.RawData.Length > 16);

        // A shape of 2^80 elements, a shape the data does not fill, a negative dimension: refused by our checks, not by ORT.
        var huge = Load("huge.onnx", p => { var t = Weights(p); t.Dims.Clear(); t.Dims.Add([1L << 40, 1L << 40]); });
        Assert.Equal(KdErrorIds.CheckpointCorrupt, huge.ErrorId);
        Assert.Null(huge.InnerException);
        var short_ = Load("short.onnx", p => { var t = Weights(p); t.RawData = Google.Protobuf.ByteString.CopyFrom(t.RawData.Span[..^4]); });
        Assert.Equal(KdErrorIds.CheckpointCorrupt, short_.ErrorId);
        Assert.Contains("bytes of data", short_.Message);
        var negative = Load("negative.onnx", p => Weights(p).Dims[0] = -1);
        Assert.Equal(KdErrorIds.CheckpointCorrupt, negative.ErrorId);
        // External data would make ONNX Runtime open the paths the file names.
        var external = Load("external.onnx", p =>
        {
            var t = Weights(p);
            t.RawData = Google.Protobuf.ByteString.Empty;
            t.DataLocation = Onnx.TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new Onnx.StringStringEntryProto { Key = "location", Value = "../../../etc/passwd" });
        });
        Assert.Equal(KdErrorIds.CheckpointMismatch, external.ErrorId);
        // A well-formed file ONNX Runtime refuses (an operator it does not know): its exception, wrapped.
        var unknown = Load("unknown-op.onnx", p => p.Graph.Node[0].OpType = "NoSuchOperator");
        Assert.Equal(KdErrorIds.CheckpointCorrupt, unknown.ErrorId);
        Assert.IsType<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(unknown.InnerException);
    }

    [Fact]
    public void A_file_without_KdTools_metadata_needs_the_normalization_and_checks_the_classes()
    {
        using var network = TrainedLooking("resnet8", classes: 4, side: 16);
        var proto = OnnxExport.Build(network, new ModelProvenance(), new OnnxExportOptions());
        proto.MetadataProps.Clear();
        var path = Path.Combine(_folder, "plain.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(proto));

        var unknown = Assert.Throws<KdException>(() => OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path }));
        Assert.Equal(KdErrorIds.ModelNormalizationUnknown, unknown.ErrorId);
        var normalization = new InputNormalization([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
        var mismatch = Assert.Throws<KdException>(() => OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path, Normalization = normalization, Classes = 7 }));
        Assert.Equal(KdErrorIds.CheckpointMismatch, mismatch.ErrorId);

        using var onnx = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path, Normalization = normalization });
        Assert.Equal("plain", onnx.Architecture);
        Assert.Equal(4, onnx.NumClasses);
        Assert.Equal(normalization, onnx.Normalization);
    }

    [Fact]
    public void An_ONNX_model_cannot_be_trained_or_teach()
    {
        using var data = TinySetup.Dataset(train: 32, test: 16, classes: 4);
        using var network = TrainedLooking("resnet8", classes: 4, side: 16);
        var path = Path.Combine(_folder, "teacher.onnx");
        OnnxExport.Save(path, network, new ModelProvenance(), new OnnxExportOptions());
        using var onnx = OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path });

        var asTeacher = Assert.Throws<KdException>(() => Distillation.Run(new DistillationRequest
        {
            MethodName = "KD", StudentArchitecture = "resnet8", Teacher = onnx, Dataset = data, Settings = TinySetup.Settings(epochs: 1),
        }));
        Assert.Equal(KdErrorIds.ModelInferenceOnly, asTeacher.ErrorId);
        var asStudent = Assert.Throws<KdException>(() => Distillation.Run(new DistillationRequest
        {
            MethodName = "CE", Student = onnx, Dataset = data, Settings = TinySetup.Settings(epochs: 1),
        }));
        Assert.Equal(KdErrorIds.ModelInferenceOnly, asStudent.ErrorId);
    }

    [Fact]
    public void Export_needs_an_input_size()
    {
        using var network = ArchitectureRegistry.Create("resnet8", 4);
        var error = Assert.Throws<KdException>(() => OnnxExport.ToBytes(network, new ModelProvenance(), new OnnxExportOptions()));
        Assert.Equal(KdErrorIds.ExportUnsupported, error.ErrorId);
        Assert.NotEmpty(OnnxExport.ToBytes(network, new ModelProvenance(), new OnnxExportOptions { InputSize = new ImageSize(16, 16) }));
    }

    /// <summary>Within <see cref="Tolerance"/> of the reference, relative to its magnitude when that exceeds 1.</summary>
    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        double scale = Math.Max(1, expected.abs().max().item<float>());
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= Tolerance * scale, $"{what}: max |ORT − TorchSharp| = {difference:G3} (logit scale {scale:G3})");
    }

    private static byte[] Noise(int length)
    {
        var bytes = new byte[length];
        new Random(5).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The file with a stretch in the middle overwritten: a graph whose structure no longer parses or checks.</summary>
    private static byte[] Flipped(byte[] bytes)
    {
        var copy = bytes.ToArray();
        var noise = Noise(64);
        Array.Copy(noise, 0, copy, 40, noise.Length);
        return copy;
    }
}
