using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using KdTools.Core.Checkpoints;
using KdTools.Core.IO;
using KdTools.Core.Models;
using Onnx;

namespace KdTools.Core.Export;

/// <summary>What an ONNX export writes besides the network.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Height and width of the graph's input; the model's recorded <see cref="ClassifierNet.InputSize"/> when null.</summary>
    public ImageSize? InputSize { get; init; }

    /// <summary>Put the per-channel normalisation into the graph, so it takes raw [0, 1] pixels.</summary>
    public bool IncludeNormalization { get; init; }

    /// <summary>A multi-exit model's every exit as an output <c>logits_{exit}</c> besides <c>logits</c> (the final exit).</summary>
    public bool AllExits { get; init; }

    /// <summary>Class names, in label order, for the metadata; none when empty.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>The seed of the run that trained the model, for the metadata; none when null.</summary>
    public long? Seed { get; init; }
}

/// <summary>
/// Writes a network as an ONNX model (opset <see cref="Opset"/>) in eval form: BatchNorm folded into the convolutions,
/// dropout gone, one input <c>input</c> [N, C, H, W] float32 with a dynamic batch dimension and the output
/// <c>logits</c> ([N, classes]; a segmentation network's [N, classes, H, W] at the input size, as its logits are
/// resized for its metrics). <c>metadata_props</c> carry what a consumer needs: architecture, classes, class names,
/// input size, mean and std, KdTools version, the training method and seed (see <see cref="OnnxMetadata"/>).
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;
    public const string InputName = "input";
    public const string OutputName = "logits";

    /// <summary>The output that carries an extra exit's logits.</summary>
    public static string ExitOutputName(string exit) => $"{OutputName}_{exit}";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically (complete or not at all).</summary>
    public static void Save(string path, ClassifierNet model, ModelProvenance provenance, OnnxExportOptions options)
    {
        var bytes = ToBytes(model, provenance, options);
        AtomicFile.Write(path, stream => stream.Write(bytes), KdErrorIds.CheckpointWriteFailed, "ONNX model");
    }

    /// <summary>The serialised ONNX model.</summary>
    public static byte[] ToBytes(ClassifierNet model, ModelProvenance provenance, OnnxExportOptions options) =>
        Build(model, provenance, options).ToByteArray();

    internal static ModelProto Build(ClassifierNet model, ModelProvenance provenance, OnnxExportOptions options)
    {
        var size = options.InputSize ?? model.InputSize ?? throw new KdException(KdErrorIds.ExportUnsupported, KdErrorKind.InvalidArgument,
            $"the {model.Architecture} records no input size (it was never trained, or its file does not say); give the image size to export it for",
            model.Architecture);
        var normalization = model.Normalization;
        if (options.IncludeNormalization && normalization is null)
            throw new KdException(KdErrorIds.ModelNormalizationUnknown, KdErrorKind.InvalidArgument,
                $"the {model.Architecture} records no input normalisation, so there is none to put into the graph; export it without it",
                model.Architecture);
        var backbone = model is MultiExitNet multi ? multi.Backbone : model;
        if (backbone is not IOnnxExportable exportable)
            throw new KdException(KdErrorIds.ExportUnsupported, KdErrorKind.InvalidOperation,
                $"{model.Architecture} cannot be exported to ONNX", model.Architecture);

        var graph = new OnnxGraph(model.Architecture);
        var input = graph.Input(InputName, model.InputChannels, size.Height, size.Width);
        var x = options.IncludeNormalization ? graph.Normalize(input, normalization!.Mean, normalization.Std) : input;
        graph.Output(OutputName, exportable.ExportOnnx(graph, x));
        var exits = new List<string>();
        if (options.AllExits && model is MultiExitNet withHeads)
        {
            if (withHeads.Heads is not IOnnxExportableExits heads)
                throw new KdException(KdErrorIds.ExportUnsupported, KdErrorKind.InvalidOperation,
                    $"the {withHeads.Heads.Kind} exits of {model.Architecture} cannot be exported to ONNX; export the final exit only", model.Architecture);
            foreach (var (exit, logits) in heads.ExportOnnx(graph))
            {
                graph.Output(ExitOutputName(exit), logits);
                exits.Add(exit);
            }
        }

        var proto = new ModelProto
        {
            IrVersion = (long)Onnx.Version.IrVersion,
            ProducerName = "KdTools",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph.Proto,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in Metadata(model, provenance, options, size, exits))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    private static Dictionary<string, string> Metadata(ClassifierNet model, ModelProvenance provenance, OnnxExportOptions options,
        ImageSize size, List<string> exits)
    {
        var metadata = ModelFile.Describe(model, provenance);
        metadata[CheckpointMetadata.Format] = OnnxMetadata.FormatValue;
        metadata[CheckpointMetadata.InputSize] = string.Create(CultureInfo.InvariantCulture, $"{size.Height},{size.Width}");
        metadata[OnnxMetadata.Parameters] = model.ParameterCount().ToString(CultureInfo.InvariantCulture);
        metadata[OnnxMetadata.NormalizationInGraph] = options.IncludeNormalization ? "true" : "false";
        metadata[OnnxMetadata.Task] = model.Task.ToString();
        if (model.Normalization is { } normalization)
        {
            metadata[OnnxMetadata.Mean] = string.Join(",", normalization.Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            metadata[OnnxMetadata.Std] = string.Join(",", normalization.Std.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        }
        if (options.ClassNames.Count > 0) metadata[OnnxMetadata.ClassNames] = JsonSerializer.Serialize(options.ClassNames);
        if (options.Seed is { } seed) metadata[OnnxMetadata.Seed] = seed.ToString(CultureInfo.InvariantCulture);
        if (exits.Count > 0) metadata[OnnxMetadata.Exits] = string.Join(",", exits);
        return metadata;
    }
}

/// <summary>The <c>metadata_props</c> keys of an exported model beyond a checkpoint's (<see cref="CheckpointMetadata"/>).</summary>
public static class OnnxMetadata
{
    /// <summary>The <c>format</c> value of a KdTools ONNX export.</summary>
    public const string FormatValue = "kdtools.onnx";

    /// <summary>Per-channel mean and std as comma-separated numbers (also as <c>normalization</c> JSON, as in a checkpoint).</summary>
    public const string Mean = "mean", Std = "std";

    /// <summary>"true" when the graph normalises its input itself (it takes raw [0, 1] pixels).</summary>
    public const string NormalizationInGraph = "normalization_in_graph";

    public const string ClassNames = "class_names";
    public const string Seed = "seed";
    public const string Task = "task";

    /// <summary>Trainable scalars of the network before export (folding removes the BatchNorms' own).</summary>
    public const string Parameters = "parameters";

    /// <summary>The extra exits exported as <c>logits_{exit}</c>, comma-separated.</summary>
    public const string Exits = "exits";
}
