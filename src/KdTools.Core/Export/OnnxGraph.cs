using Google.Protobuf;
using KdTools.Core.Models;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Export;

/// <summary>
/// Builds one ONNX graph (the generated <see cref="GraphProto"/>) from the eval-mode computation of a network: weights
/// as float32 initializers, one node per operation, static shapes tracked past the dynamic batch dimension <c>N</c>.
/// Each operation is the ONNX operator (opset <see cref="OnnxExport.Opset"/>) that computes what TorchSharp computes.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly GraphProto _graph;
    private readonly Dictionary<string, OnnxValue> _features = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public OnnxGraph(string name) => _graph = new GraphProto { Name = name };

    public GraphProto Proto => _graph;

    /// <summary>A graph input [N, channels, height, width] float32 with a dynamic batch dimension.</summary>
    public OnnxValue Input(string name, long channels, long height, long width)
    {
        _names.Add(name);
        _graph.Input.Add(ValueInfo(name, [channels, height, width]));
        return new OnnxValue(name, channels, height, width);
    }

    /// <summary>Makes <paramref name="value"/> a graph output called <paramref name="name"/>.</summary>
    public void Output(string name, OnnxValue value)
    {
        _names.Add(name);
        Node("Identity", [value.Name], name);
        _graph.Output.Add(ValueInfo(name, value.IsVector ? [value.Channels] : [value.Channels, value.Height, value.Width]));
    }

    /// <summary>Records a named feature of the network (<c>stage1</c>, ...) for exit heads; returns it, so calls chain.</summary>
    public OnnxValue Feature(string name, OnnxValue value)
    {
        _features[name] = value;
        return value;
    }

    /// <summary>A feature the backbone recorded; a clear error when it did not.</summary>
    public OnnxValue Feature(string name) =>
        _features.TryGetValue(name, out var value)
            ? value
            : throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidOperation,
                $"the exported network records no feature '{name}'; it records: {string.Join(", ", _features.Keys)}", name);

    // ---- Modules ----

    /// <summary>
    /// Any module the architectures compose: a block that exports itself, a Sequential (a convolution directly followed
    /// by a BatchNorm is folded into one convolution), or one of the TorchSharp layers below.
    /// </summary>
    public OnnxValue Module(nn.Module module, OnnxValue x) => module switch
    {
        IOnnxExportable block => block.ExportOnnx(this, x),
        Sequential sequence => Layers(sequence.children(), x),
        Conv2d conv => Conv(x, conv),
        BatchNorm2d norm => BatchNorm(x, norm),
        ReLU => Relu(x),
        Sigmoid => Unary("Sigmoid", x),
        AdaptiveAvgPool2d pool => AdaptiveAveragePool(x, pool.output_size[0], pool.output_size.Length > 1 ? pool.output_size[1] : pool.output_size[0]),
        Linear linear => Linear(x, linear),
        Upsample upsample => Resize(x, (long)Math.Floor(x.Height * upsample.scale_factor[0]),
            (long)Math.Floor(x.Width * upsample.scale_factor[upsample.scale_factor.Length > 1 ? 1 : 0]),
            alignCorners: upsample.align_corners == true, Bilinear(upsample.mode)),
        Dropout or Dropout2d or Identity => x,
        _ => throw new KdException(KdErrorIds.ExportUnsupported, KdErrorKind.InvalidOperation,
            $"ONNX export does not know the layer {module.GetType().Name}", module.GetType().Name),
    };

    /// <summary>Layers in sequence, as a Sequential runs them; a convolution directly followed by a BatchNorm is one folded convolution.</summary>
    public OnnxValue Layers(IEnumerable<nn.Module> layers, OnnxValue x)
    {
        var list = layers.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is Conv2d conv && i + 1 < list.Count && list[i + 1] is BatchNorm2d norm)
            {
                x = Conv(x, conv, norm);
                i++;
            }
            else x = Module(list[i], x);
        }
        return x;
    }

    /// <summary>
    /// <paramref name="conv"/> on <paramref name="x"/>, with <paramref name="norm"/> (eval mode) folded into its weights
    /// and bias as the frozen teacher folds it (<see cref="BatchNormFolding.FoldedParameters"/>); a BatchNorm already
    /// folded into the convolution is not folded twice.
    /// </summary>
    public OnnxValue Conv(OnnxValue x, Conv2d conv, BatchNorm2d? norm = null)
    {
        using var scope = NewDisposeScope();
        Tensor weight, bias;
        if (norm is not null && !BatchNormFolding.IsFolded(norm)) (weight, bias) = BatchNormFolding.FoldedParameters(conv, norm);
        else (weight, bias) = (conv.weight!, conv.bias ?? zeros(conv.weight!.shape[0], dtype: conv.weight.dtype));
        var padding = conv.padding ?? throw new KdException(KdErrorIds.ExportUnsupported, KdErrorKind.InvalidOperation,
            "ONNX export needs convolutions with explicit padding", conv.GetType().Name);
        long[] kernel = conv.kernel_size, stride = conv.stride, dilation = conv.dilation;
        var output = Node("Conv", [Weights("conv_w", weight), Weights("conv_b", bias)], x,
            Ints("kernel_shape", kernel), Ints("strides", stride), Ints("dilations", dilation),
            Ints("pads", [padding[0], padding[^1], padding[0], padding[^1]]), Int("group", conv.groups));
        long height = (x.Height + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) / stride[0] + 1;
        long width = (x.Width + 2 * padding[^1] - dilation[^1] * (kernel[^1] - 1) - 1) / stride[^1] + 1;
        return new OnnxValue(output, weight.shape[0], height, width);
    }

    /// <summary>An eval-mode BatchNorm that no convolution directly precedes (a pre-activation block's entry).</summary>
    public OnnxValue BatchNorm(OnnxValue x, BatchNorm2d norm)
    {
        var channels = norm.running_mean!.shape[0];
        using var scope = NewDisposeScope();
        var scale = norm.weight is { } gamma ? (Tensor)gamma : ones(channels);
        var shift = norm.bias is { } beta ? (Tensor)beta : zeros(channels);
        return x with
        {
            Name = Node("BatchNormalization",
                [Weights("bn_scale", scale), Weights("bn_shift", shift), Weights("bn_mean", norm.running_mean), Weights("bn_var", norm.running_var!)],
                x, Float("epsilon", norm.eps)),
        };
    }

    /// <summary><c>x · Wᵀ + b</c>; a feature map is flattened first.</summary>
    public OnnxValue Linear(OnnxValue x, Linear linear)
    {
        if (!x.IsVector) x = Flatten(x);
        using var scope = NewDisposeScope();
        var bias = linear.bias ?? zeros(linear.weight!.shape[0]);
        return OnnxValue.Vector(Node("Gemm", [Weights("fc_w", linear.weight!), Weights("fc_b", bias)], x, Int("transB", 1)),
            linear.weight!.shape[0]);
    }

    // ---- Operations ----

    public OnnxValue Relu(OnnxValue x) => Unary("Relu", x);

    public OnnxValue Add(OnnxValue a, OnnxValue b) => a with { Name = Node("Add", [a.Name, b.Name]) };

    public OnnxValue Mul(OnnxValue a, OnnxValue b) => a with { Name = Node("Mul", [a.Name, b.Name]) };

    /// <summary>Channel concatenation of feature maps of one size.</summary>
    public OnnxValue Concat(IReadOnlyList<OnnxValue> parts) =>
        parts[0] with { Name = Node("Concat", parts.Select(p => p.Name).ToArray(), Int("axis", 1)), Channels = parts.Sum(p => p.Channels) };

    /// <summary>
    /// Max pooling; <paramref name="ceilMode"/> rounds the output size up, as PyTorch's <c>ceil_mode=True</c> (for the
    /// kernel, stride and padding used here no window starts inside the right padding, where PyTorch and ONNX differ).
    /// </summary>
    public OnnxValue MaxPool(OnnxValue x, long kernel, long stride, long padding = 0, bool ceilMode = false) =>
        Pool("MaxPool", x, kernel, stride, padding, ceilMode, ceilMode ? [Int("ceil_mode", 1)] : []);

    /// <summary>Average pooling counting the zero padding, as PyTorch's avg_pool2d does by default.</summary>
    public OnnxValue AveragePool(OnnxValue x, long kernel, long stride, long padding = 0) =>
        Pool("AveragePool", x, kernel, stride, padding, ceilMode: false, Int("count_include_pad", 1));

    /// <summary><c>x.mean([2, 3])</c>: global average pooling, flattened to [N, C].</summary>
    public OnnxValue GlobalAveragePool(OnnxValue x) => Flatten(x with { Name = Node("GlobalAveragePool", [x.Name]), Height = 1, Width = 1 });

    public OnnxValue Flatten(OnnxValue x) =>
        OnnxValue.Vector(Node("Flatten", [x.Name], Int("axis", 1)), x.Channels * Math.Max(x.Height, 1) * Math.Max(x.Width, 1));

    /// <summary>
    /// PyTorch's adaptive average pooling to <paramref name="outHeight"/>×<paramref name="outWidth"/>: cell i spans
    /// [⌊i·H/h⌋, ⌈(i+1)·H/h⌉). Global pooling or a plain average pool where the cells tile the map; otherwise the mean
    /// of each band of rows, then of each band of columns (the cells are products of bands, so the means are the same).
    /// </summary>
    public OnnxValue AdaptiveAveragePool(OnnxValue x, long outHeight, long outWidth)
    {
        if (outHeight == 1 && outWidth == 1) return x with { Name = Node("GlobalAveragePool", [x.Name]), Height = 1, Width = 1 };
        if (x.Height % outHeight == 0 && x.Width % outWidth == 0)
        {
            long[] kernel = [x.Height / outHeight, x.Width / outWidth];
            return x with { Name = Node("AveragePool", [x.Name], Ints("kernel_shape", kernel), Ints("strides", kernel)), Height = outHeight, Width = outWidth };
        }
        var rows = Bands(x, axis: 2, x.Height, outHeight);
        var pooled = Bands(x with { Name = rows, Height = outHeight }, axis: 3, x.Width, outWidth);
        return x with { Name = pooled, Height = outHeight, Width = outWidth };
    }

    /// <summary>
    /// Bilinear (or nearest) resizing to <paramref name="height"/>×<paramref name="width"/> with PyTorch's coordinate
    /// mapping: <c>align_corners</c>, or half-pixel centres (<c>pytorch_half_pixel</c>) as interpolate's default.
    /// </summary>
    public OnnxValue Resize(OnnxValue x, long height, long width, bool alignCorners, bool bilinear = true)
    {
        var batchAndChannels = Node("Slice", [Node("Shape", [x.Name]), Int64s("starts", [0]), Int64s("ends", [2]), Int64s("axes", [0])]);
        var sizes = Node("Concat", [batchAndChannels, Int64s("size", [height, width])], Int("axis", 0));
        var output = Node("Resize", [x.Name, "", "", sizes],
            String("mode", bilinear ? "linear" : "nearest"),
            String("coordinate_transformation_mode", alignCorners ? "align_corners" : bilinear ? "pytorch_half_pixel" : "asymmetric"),
            String("nearest_mode", "floor"));
        return x with { Name = output, Height = height, Width = width };
    }

    /// <summary>Channels [start, end) of a feature map (<c>narrow(1, start, end − start)</c>).</summary>
    public OnnxValue SliceChannels(OnnxValue x, long start, long end) =>
        x with { Name = Node("Slice", [x.Name, Int64s("starts", [start]), Int64s("ends", [end]), Int64s("axes", [1])]), Channels = end - start };

    /// <summary>ShuffleNet's channel shuffle: [N, g·c, H, W] → [N, g, c, H, W] → [N, c, g, H, W] → [N, g·c, H, W].</summary>
    public OnnxValue ChannelShuffle(OnnxValue x, long groups)
    {
        if (groups == 1) return x;
        // 0 in a Reshape shape copies the input's dimension: the dynamic batch.
        var split = Node("Reshape", [x.Name, Int64s("shape", [0, groups, x.Channels / groups, x.Height, x.Width])]);
        var swapped = Node("Transpose", [split], Ints("perm", [0, 2, 1, 3, 4]));
        return x with { Name = Node("Reshape", [swapped, Int64s("shape", [0, x.Channels, x.Height, x.Width])]) };
    }

    /// <summary><c>(x − mean) / std</c> per channel, for a graph that takes raw [0, 1] pixels.</summary>
    public OnnxValue Normalize(OnnxValue x, float[] mean, float[] std)
    {
        var shape = new long[] { 1, mean.Length, 1, 1 };
        var centred = Node("Sub", [x.Name, FloatConstant("mean", mean, shape)]);
        return x with { Name = Node("Div", [centred, FloatConstant("std", std, shape)]) };
    }

    // ---- Plumbing ----

    private OnnxValue Unary(string op, OnnxValue x) => x with { Name = Node(op, [x.Name]) };

    private OnnxValue Pool(string op, OnnxValue x, long kernel, long stride, long padding, bool ceilMode, params AttributeProto[] extra)
    {
        long rounding = ceilMode ? stride - 1 : 0;
        var attributes = new List<AttributeProto> { Ints("kernel_shape", [kernel, kernel]), Ints("strides", [stride, stride]), Ints("pads", [padding, padding, padding, padding]) };
        attributes.AddRange(extra);
        var output = Node(op, [x.Name], attributes.ToArray());
        return x with { Name = output, Height = (x.Height + 2 * padding - kernel + rounding) / stride + 1,
            Width = (x.Width + 2 * padding - kernel + rounding) / stride + 1 };
    }

    /// <summary>The mean of each adaptive band along <paramref name="axis"/>, concatenated along it.</summary>
    private string Bands(OnnxValue x, long axis, long size, long bands)
    {
        var parts = new List<string>();
        for (long i = 0; i < bands; i++)
        {
            long start = i * size / bands, end = ((i + 1) * size + bands - 1) / bands;
            var band = Node("Slice", [x.Name, Int64s("starts", [start]), Int64s("ends", [end]), Int64s("axes", [axis])]);
            parts.Add(Node("ReduceMean", [band], Ints("axes", [axis]), Int("keepdims", 1)));
        }
        return Node("Concat", parts.ToArray(), Int("axis", axis));
    }

    private static bool Bilinear(UpsampleMode mode) => mode switch
    {
        UpsampleMode.Bilinear => true,
        UpsampleMode.Nearest => false,
        _ => throw new KdException(KdErrorIds.ExportUnsupported, KdErrorKind.InvalidOperation,
            $"ONNX export does not know upsampling mode {mode}", mode.ToString()),
    };

    /// <summary>A node whose first input is <paramref name="x"/>, then <paramref name="inputs"/>; returns its output's name.</summary>
    private string Node(string op, string[] inputs, OnnxValue x, params AttributeProto[] attributes) =>
        Node(op, [x.Name, .. inputs], attributes);

    private string Node(string op, string[] inputs, params AttributeProto[] attributes) => Node(op, inputs, Fresh(op), attributes);

    private string Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.Add(inputs);
        node.Output.Add(output);
        node.Attribute.Add(attributes);
        _graph.Node.Add(node);
        return output;
    }

    private string Fresh(string hint)
    {
        var name = $"{hint.ToLowerInvariant()}_{_names.Count}";
        _names.Add(name);
        return name;
    }

    /// <summary>A float32 initializer holding <paramref name="tensor"/>'s values (converted from any floating type).</summary>
    private string Weights(string hint, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var values = tensor.detach().to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        return FloatConstant(hint, values, tensor.shape);
    }

    private string FloatConstant(string hint, float[] values, long[] shape)
    {
        var name = Fresh(hint);
        var initializer = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        initializer.Dims.Add(shape);
        // raw_data: the values' little-endian bytes, as ONNX specifies it (one copy, no per-value varint coding).
        initializer.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        _graph.Initializer.Add(initializer);
        return name;
    }

    private string Int64s(string hint, long[] values)
    {
        var name = Fresh(hint);
        var initializer = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        initializer.Dims.Add(values.Length);
        initializer.Int64Data.Add(values);
        _graph.Initializer.Add(initializer);
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, long[] dimsAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var dim in dimsAfterBatch) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, double value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };

    private static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto Ints(string name, long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }
}
