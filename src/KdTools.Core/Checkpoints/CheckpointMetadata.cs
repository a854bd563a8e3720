using System.Globalization;

namespace KdTools.Core.Checkpoints;

/// <summary>
/// The string metadata every KdTools checkpoint carries in its safetensors header. Tensors use PyTorch-style keys under
/// prefixes: <c>model.</c> (the network's state dict), <c>extras.</c> (the method's trainable modules) and
/// <c>optim.</c> (SGD momentum buffers, resumable checkpoints only).
/// </summary>
public static class CheckpointMetadata
{
    public const string Format = "format";
    public const string FormatValue = "kdtools.checkpoint";
    public const string Version = "format_version";
    public const int CurrentVersion = 1;
    public const string Kind = "kind";
    public const string KindModel = "model";
    public const string KindResumable = "resumable";
    public const string Architecture = "architecture";
    public const string Classes = "classes";
    public const string Method = "method";
    public const string MethodOptions = "method_options";
    public const string Dataset = "dataset";
    public const string Normalization = "normalization";
    public const string Recipe = "recipe";
    public const string Epochs = "epochs";
    public const string TestTop1 = "test_top1";
    public const string Created = "created";
    public const string KdToolsVersion = "kdtools_version";
    public const string Run = "run";
    public const string Settings = "settings";

    public const string HeadsKind = "heads_kind";
    public const string HeadsConfiguration = "heads_configuration";

    public const string ModelPrefix = "model.";
    public const string HeadsPrefix = "heads.";
    public const string ExtrasPrefix = "extras.";
    public const string OptimizerPrefix = "optim.";

    /// <summary>The fields every checkpoint needs, checked on load so a foreign file fails with a clear message.</summary>
    public static void RequireKdTools(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(Format, out var format) || format != FormatValue)
            throw new KdException(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
                $"'{path}' is a safetensors file but not a KdTools checkpoint (no '{Format}: {FormatValue}' metadata); save models with Save-KdModel or New-Teacher -CheckpointPath", path);
        if (!metadata.TryGetValue(Version, out var v) || !int.TryParse(v, CultureInfo.InvariantCulture, out var version) || version > CurrentVersion)
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                $"checkpoint '{path}' has format version {v ?? "?"}; this KdTools reads up to {CurrentVersion}: update KdTools", path);
        foreach (var key in new[] { Architecture, Classes })
            if (!metadata.ContainsKey(key))
                throw new KdException(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
                    $"checkpoint '{path}' lacks the '{key}' field; it was not written by KdTools or is damaged", path);
    }

    public static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
