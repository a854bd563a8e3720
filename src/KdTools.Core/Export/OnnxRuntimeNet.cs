using System.Globalization;
using Google.Protobuf;
using KdTools.Core.Checkpoints;
using KdTools.Core.Data;
using KdTools.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;

namespace KdTools.Core.Export;

/// <summary>What <see cref="OnnxRuntimeNet.Load"/> needs to know that a file may not say.</summary>
public sealed record OnnxLoadRequest
{
    public required string Path { get; init; }

    /// <summary>Class count; required when neither the metadata nor the output shape gives it, checked otherwise.</summary>
    public int? Classes { get; init; }

    /// <summary>The input normalisation; overrides the metadata's, required for a file without it.</summary>
    public InputNormalization? Normalization { get; init; }

    /// <summary>ONNX Runtime's intra-op threads; its default (one per physical core) when null.</summary>
    public int? Threads { get; init; }
}

/// <summary>
/// An ONNX model run by ONNX Runtime, behind the same surface as every other network: <see cref="Run"/> takes an
/// [N, C, H, W] batch and returns the logits (and a multi-exit export's exits), so evaluation, prediction and timing
/// work on it unchanged. It has no trainable weights and cannot be trained or used as a teacher
/// (<see cref="RequireTrainable"/>).
/// </summary>
public sealed class OnnxRuntimeNet : ClassifierNet
{
    public const string RuntimeName = "OnnxRuntime";

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly int _channels;
    private readonly long _parameters;
    private readonly PredictionTask _task;

    private OnnxRuntimeNet(string name, int classes, InferenceSession session, string inputName, string[] outputNames,
        int channels, long parameters, PredictionTask task, string path) : base(name, classes, stageCount: 0)
    {
        _session = session;
        _inputName = inputName;
        _outputNames = outputNames;
        _channels = channels;
        _parameters = parameters;
        _task = task;
        Path = path;
    }

    /// <summary>The file the model was loaded from.</summary>
    public string Path { get; }

    /// <summary>What the file's metadata says (empty for a file without KdTools metadata).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private init; } = new Dictionary<string, string>();

    public override PredictionTask Task => _task;
    public override int InputChannels => _channels;
    public override long ParameterCount() => _parameters;

    /// <summary>A clear error when <paramref name="network"/> is run by ONNX Runtime and so cannot be trained or teach.</summary>
    /// <param name="role">"student", "teacher", "backbone", for the message.</param>
    public static void RequireTrainable(ClassifierNet? network, string role)
    {
        if (network is OnnxRuntimeNet onnx)
            throw new KdException(KdErrorIds.ModelInferenceOnly, KdErrorKind.InvalidArgument,
                $"the {role} {onnx.Architecture} is an ONNX model ('{onnx.Path}') run by ONNX Runtime, which only predicts; " +
                "train or distil from its safetensors checkpoint (Save-KdModel writes one) instead", onnx.Path);
    }

    public override ModelOutput Run(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != _channels || (InputSize is { } size && (input.shape[2] != size.Height || input.shape[3] != size.Width)))
            throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                $"the ONNX model {Architecture} takes [N, {_channels}, {InputSize?.Height}, {InputSize?.Width}] images, not [{string.Join(", ", input.shape)}]; " +
                "export it again at this image size", Architecture);
        float[] data;
        using (var scope = NewDisposeScope())
            data = input.detach().to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, input.shape);
        using var options = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> results;
        try
        {
            results = _session.Run(options, [_inputName], [value], _outputNames);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new KdException(KdErrorIds.ModelRunFailed, KdErrorKind.InvalidOperation,
                $"ONNX Runtime could not run '{Path}' on a [{string.Join(", ", input.shape)}] batch: {FirstLine(ex.Message)}", Path, ex);
        }
        using (results)
        {
            var logits = ToTensor(results[0], input.device);
            var exits = new Dictionary<string, Tensor>();
            for (int i = 1; i < _outputNames.Length; i++)
                exits[_outputNames[i][(OnnxExport.OutputName.Length + 1)..]] = ToTensor(results[i], input.device);
            return new ModelOutput(logits, new Dictionary<string, Tensor>(), exits);
        }
    }

    private static Tensor ToTensor(OrtValue value, Device device) =>
        tensor(value.GetTensorDataAsSpan<float>().ToArray(), value.GetTensorTypeAndShape().Shape).to(device);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _session.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>
    /// Loads an ONNX file. A KdTools export says what it holds; another file needs <see cref="OnnxLoadRequest.Classes"/>
    /// when its output shape does not give them, and the normalisation it was trained with. A truncated or corrupted
    /// file fails with <see cref="KdErrorIds.CheckpointCorrupt"/> naming it; ONNX Runtime's own exceptions never escape.
    /// </summary>
    public static OnnxRuntimeNet Load(OnnxLoadRequest request)
    {
        var path = System.IO.Path.GetFullPath(request.Path);
        if (!File.Exists(path))
            throw new KdException(KdErrorIds.CheckpointMissing, KdErrorKind.ObjectNotFound, $"'{path}' does not exist; check the path", path);
        byte[] bytes;
        ModelProto proto;
        try
        {
            bytes = File.ReadAllBytes(path);
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or IOException)
        {
            throw Corrupt(path, ex.Message, ex);
        }
        if (proto.Graph is null || proto.Graph.Node.Count == 0)
            throw Corrupt(path, "it holds no ONNX graph", null);
        // ONNX Runtime is native code: what our code can check is checked before it sees the bytes.
        CheckTensors(proto, path);
        var metadata = proto.MetadataProps.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);

        InferenceSession session;
        try
        {
            var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            if (request.Threads is int threads) options.IntraOpNumThreads = threads;
            session = new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw Corrupt(path, ex.Message, ex);
        }
        try
        {
            return Describe(session, metadata, request, path);
        }
        catch (OnnxRuntimeException ex)
        {
            // The session's input and output descriptions (a non-tensor type) come from ONNX Runtime too.
            session.Dispose();
            throw Corrupt(path, ex.Message, ex);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Every tensor the file holds (initializers, Constant and other attributes, subgraphs, functions): its data is in the
    /// file (external data would make ONNX Runtime open paths the file names), its dimensions are not negative, and its
    /// data has as many elements as its dimensions say, so a shape that claims 2^40 elements is refused here.
    /// </summary>
    private static void CheckTensors(ModelProto proto, string path)
    {
        var graphs = new Stack<GraphProto>();
        graphs.Push(proto.Graph);
        var nodes = new List<NodeProto>(proto.Functions.SelectMany(f => f.Node));
        while (graphs.Count > 0 || nodes.Count > 0)
        {
            if (graphs.TryPop(out var graph))
            {
                foreach (var tensor in graph.Initializer) CheckTensor(tensor, path);
                foreach (var sparse in graph.SparseInitializer) CheckSparse(sparse, path);
                nodes.AddRange(graph.Node);
                continue;
            }
            var node = nodes[^1];
            nodes.RemoveAt(nodes.Count - 1);
            foreach (var attribute in node.Attribute)
            {
                if (attribute.T is { } t) CheckTensor(t, path);
                foreach (var each in attribute.Tensors) CheckTensor(each, path);
                if (attribute.SparseTensor is { } st) CheckSparse(st, path);
                foreach (var each in attribute.SparseTensors) CheckSparse(each, path);
                if (attribute.G is { } g) graphs.Push(g);
                foreach (var each in attribute.Graphs) graphs.Push(each);
            }
        }
    }

    private static void CheckSparse(SparseTensorProto sparse, string path)
    {
        if (sparse.Values is { } values) CheckTensor(values, path);
        if (sparse.Indices is { } indices) CheckTensor(indices, path);
        CheckDims(sparse.Dims, sparse.Values?.Name ?? "a sparse tensor", path);
    }

    private static void CheckTensor(TensorProto tensor, string path)
    {
        var name = tensor.Name.Length == 0 ? "an unnamed tensor" : $"tensor '{tensor.Name}'";
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                $"'{path}' keeps {name}'s data in another file; KdTools reads self-contained ONNX files only (export with the weights inside)", path);
        if (tensor.Segment is not null)
            throw Corrupt(path, $"{name} is a segment of a tensor, which a model file does not hold", null);
        long count = CheckDims(tensor.Dims, name, path);
        int typed = tensor.FloatData.Count + tensor.Int32Data.Count + tensor.Int64Data.Count + tensor.DoubleData.Count
            + tensor.Uint64Data.Count + tensor.StringData.Count;
        var type = (TensorProto.Types.DataType)tensor.DataType;
        if (!tensor.RawData.IsEmpty)
        {
            int size = ElementSize(type);
            if (size == 0)
                throw Corrupt(path, $"{name} has raw data of type {type}, which has no fixed size", null);
            if (typed > 0 || count > tensor.RawData.Length / size || count * size != tensor.RawData.Length)
                throw Corrupt(path, $"{name} has {tensor.RawData.Length:N0} bytes of data for {count:N0} elements of {type}", null);
        }
        else if (typed != (type is TensorProto.Types.DataType.Complex64 or TensorProto.Types.DataType.Complex128 ? 2 * count : count))
            throw Corrupt(path, $"{name} has {typed:N0} values for {count:N0} elements", null);
    }

    /// <summary>The element count of a shape, refused when a dimension is negative or the count overflows.</summary>
    private static long CheckDims(IReadOnlyList<long> dims, string name, string path)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw Corrupt(path, $"{name} has a negative dimension ({d})", null);
            if (d != 0 && count > long.MaxValue / d) throw Corrupt(path, $"{name} claims more elements than any file holds", null);
            count *= d;
        }
        return count;
    }

    private static int ElementSize(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64
            or TensorProto.Types.DataType.Complex64 => 8,
        TensorProto.Types.DataType.Complex128 => 16,
        TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Int16
            or TensorProto.Types.DataType.Uint16 => 2,
        TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool => 1,
        _ => 0,
    };

    private static OnnxRuntimeNet Describe(InferenceSession session, Dictionary<string, string> metadata, OnnxLoadRequest request, string path)
    {
        if (session.InputMetadata.Count != 1)
            throw Unsupported(path, $"it has {session.InputMetadata.Count} inputs; KdTools runs image models with one [N, C, H, W] input");
        var (inputName, input) = session.InputMetadata.First();
        var dims = input.Dimensions;
        if (input.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float || dims.Length != 4 || dims[1] < 1)
            throw Unsupported(path, $"its input '{inputName}' is not a float32 [N, C, H, W] image batch with a fixed channel count");
        if (session.OutputNames.Count == 0) throw Unsupported(path, "it has no outputs");
        var outputNames = session.OutputNames.Contains(OnnxExport.OutputName)
            ? session.OutputNames.Where(n => n == OnnxExport.OutputName || n.StartsWith(OnnxExport.OutputName + "_", StringComparison.Ordinal))
                .OrderBy(n => n == OnnxExport.OutputName ? 0 : 1).ToArray()
            : [session.OutputNames[0]];
        var outputDims = session.OutputMetadata[outputNames[0]].Dimensions;
        if (outputDims.Length is not (2 or 4))
            throw Unsupported(path, $"its output '{outputNames[0]}' is not [N, classes] logits (or [N, classes, H, W] for segmentation)");

        bool isKdTools = metadata.GetValueOrDefault(CheckpointMetadata.Format) == OnnxMetadata.FormatValue;
        int? recorded = isKdTools ? CheckpointMetadata.ReadInt(metadata, CheckpointMetadata.Classes, path) : outputDims[1] > 0 ? outputDims[1] : null;
        if (request.Classes is { } asked && recorded is { } known && asked != known)
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidArgument,
                $"'{path}' predicts {known} classes, not {asked}; leave -Classes out or give {known}", path);
        int classes = request.Classes ?? recorded ?? throw new KdException(KdErrorIds.CheckpointArchitectureRequired, KdErrorKind.InvalidArgument,
            $"'{path}' does not say how many classes it predicts (no KdTools metadata, no fixed output width); give the class count", path);

        var normalization = request.Normalization ?? (isKdTools ? ModelFile.ReadNormalization(metadata, path) : null)
            ?? throw new KdException(KdErrorIds.ModelNormalizationUnknown, KdErrorKind.InvalidArgument,
                $"'{path}' does not record the input normalisation its network expects; give the per-channel mean and std it was trained with", path);
        if (isKdTools && metadata.GetValueOrDefault(OnnxMetadata.NormalizationInGraph) == "true" && request.Normalization is null)
            // The graph normalises raw [0, 1] pixels itself: feed it the pixels as they are.
            normalization = new InputNormalization(new float[normalization.Mean.Length], Enumerable.Repeat(1f, normalization.Std.Length).ToArray());

        var name = isKdTools && metadata.TryGetValue(CheckpointMetadata.Architecture, out var architecture)
            ? architecture
            : System.IO.Path.GetFileNameWithoutExtension(path);
        long parameters = long.TryParse(metadata.GetValueOrDefault(OnnxMetadata.Parameters), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p)
            ? p
            : 0;
        var net = new OnnxRuntimeNet(name, classes, session, inputName, outputNames, dims[1], parameters,
            outputDims.Length == 4 ? PredictionTask.Segmentation : PredictionTask.Classification, path)
        {
            Metadata = metadata,
            Normalization = normalization,
            InputSize = dims[2] > 0 && dims[3] > 0 ? new ImageSize(dims[2], dims[3]) : null,
        };
        return net;
    }

    private static KdException Corrupt(string path, string reason, Exception? inner) =>
        new(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
            $"'{path}' is not a readable ONNX model ({FirstLine(reason)}); the file is truncated or damaged: export it again", path, inner);

    private static KdException Unsupported(string path, string reason) =>
        new(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData, $"'{path}' cannot be run as a KdTools model: {reason}", path);

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
