using static TorchSharp.torch;

namespace KdTools.Core.Checkpoints;

/// <summary>A safetensors dtype name paired with the TorchSharp element type it stores.</summary>
internal sealed record SafeTensorsDtype(string Name, ScalarType ScalarType, int ElementSize)
{
    public static readonly IReadOnlyList<SafeTensorsDtype> Supported =
    [
        new("F64", ScalarType.Float64, 8),
        new("F32", ScalarType.Float32, 4),
        new("F16", ScalarType.Float16, 2),
        new("BF16", ScalarType.BFloat16, 2),
        new("I64", ScalarType.Int64, 8),
        new("I32", ScalarType.Int32, 4),
        new("I16", ScalarType.Int16, 2),
        new("I8", ScalarType.Int8, 1),
        new("U8", ScalarType.Byte, 1),
        new("BOOL", ScalarType.Bool, 1),
    ];

    public static string SupportedNames => string.Join(", ", Supported.Select(d => d.Name));

    public static SafeTensorsDtype? FromName(string name) => Supported.FirstOrDefault(d => d.Name == name);

    public static SafeTensorsDtype? FromScalarType(ScalarType type) => Supported.FirstOrDefault(d => d.ScalarType == type);
}
