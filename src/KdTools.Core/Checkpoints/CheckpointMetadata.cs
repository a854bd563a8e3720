using System.Globalization;

namespace KdTools.Core.Checkpoints;

/// <summary>
/// The string metadata every KdTools checkpoint carries in its safetensors header. Tensors: the network's own state
/// dict under its PyTorch keys, unprefixed (format 2; format 1 put them under <c>model.</c>), so
/// <c>model.load_state_dict(safetensors.torch.load_file(path))</c> loads a plain network's file strictly; KdTools' own
/// entries go under reserved prefixes no network key starts with: <c>heads.</c> (a multi-exit model's extra exits),
/// and in resumable checkpoints <c>extras.</c> (the method's trainable modules), <c>optim.</c> (SGD momentum buffers)
/// and <c>best.</c> (the best epoch's weights of a run that keeps them).
/// </summary>
public static class CheckpointMetadata
{
    public const string Format = "format";
    public const string FormatValue = "kdtools.checkpoint";
    public const string Version = "format_version";

    /// <summary>2: the network's entries are unprefixed. 1: they were under <see cref="LegacyModelPrefix"/> (still read).</summary>
    public const int CurrentVersion = 2;
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

    /// <summary>The image size a network was trained on, "height,width".</summary>
    public const string InputSize = "input_size";

    /// <summary>A resumable checkpoint's run identity (<c>Training.RunIdentity</c>): what a resume must match.</summary>
    public const string RunIdentity = "run_identity";

    public const string HeadsKind = "heads_kind";
    public const string HeadsConfiguration = "heads_configuration";

    /// <summary>Where format 1 kept the network's entries.</summary>
    public const string LegacyModelPrefix = "model.";
    public const string HeadsPrefix = "heads.";
    public const string ExtrasPrefix = "extras.";
    public const string OptimizerPrefix = "optim.";
    public const string BestPrefix = "best.";

    /// <summary>The prefixes of KdTools' own entries in a format-2 file; every other entry is the network's.</summary>
    public static IReadOnlyList<string> ReservedPrefixes { get; } = [HeadsPrefix, ExtrasPrefix, OptimizerPrefix, BestPrefix];

    /// <summary>
    /// The fields every checkpoint needs, checked on load so a foreign or edited file fails with a clear message; returns
    /// the format version.
    /// </summary>
    public static int RequireKdTools(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(Format, out var format) || format != FormatValue)
            throw new KdException(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
                $"'{path}' is a safetensors file but not a KdTools checkpoint (no '{Format}: {FormatValue}' metadata): " +
                "a state dict saved by PyTorch is imported with its architecture and class count", path);
        int version = ReadInt(metadata, Version, path);
        if (version < 1)
            throw Corrupt(path, Version, metadata[Version], "a format version from 1");
        if (version > CurrentVersion)
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                $"checkpoint '{path}' has format version {version}; this KdTools reads up to {CurrentVersion}: update KdTools", path);
        if (!metadata.TryGetValue(Architecture, out var architecture) || architecture.Length == 0)
            throw new KdException(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
                $"checkpoint '{path}' lacks the '{Architecture}' field; it was not written by KdTools or is damaged", path);
        if (ReadInt(metadata, Classes, path) < 1)
            throw Corrupt(path, Classes, metadata[Classes], "a class count from 1");
        return version;
    }

    /// <summary>A whole-number field; a missing or edited one is <see cref="KdErrorIds.CheckpointCorrupt"/>.</summary>
    public static int ReadInt(IReadOnlyDictionary<string, string> metadata, string key, string path)
    {
        if (!metadata.TryGetValue(key, out var text))
            throw new KdException(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
                $"checkpoint '{path}' lacks the '{key}' field; it was not written by KdTools or is damaged", path);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value : throw Corrupt(path, key, text, "a whole number");
    }

    /// <summary>The error for a field whose value KdTools never writes: the file was edited or damaged.</summary>
    public static KdException Corrupt(string path, string key, string value, string expected, Exception? inner = null) =>
        new(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
            $"checkpoint '{path}' has '{key}' = '{Shorten(value)}', which is not {expected}: the file was edited or damaged; " +
            "use an unedited copy or an earlier checkpoint", path, inner);

    public static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";
}
