using System.Globalization;
using System.Text.Json;
using KdTools.Core.Models;
using static TorchSharp.torch;

namespace KdTools.Core.Checkpoints;

/// <summary>What is known about a saved model besides its weights.</summary>
public sealed record ModelProvenance
{
    public string Method { get; init; } = "";
    public string Dataset { get; init; } = "";
    public int Epochs { get; init; }
    public double TestTop1 { get; init; } = double.NaN;

    /// <summary>The training recipe the model was trained with (<c>Get-KdRecipe</c>); empty when unknown.</summary>
    public string Recipe { get; init; } = "";
    public IReadOnlyDictionary<string, string>? Extra { get; init; }
}

/// <summary>A model loaded from a checkpoint, with what the file says about it.</summary>
public sealed record LoadedModel(ClassifierNet Model, ModelProvenance Provenance, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Saves and loads trained networks (any KdTools checkpoint, resumable ones included, holds one). A model file's
/// tensors are the network's plain state dict, so PyTorch loads it with
/// <c>model.load_state_dict(safetensors.torch.load_file(path))</c>; a multi-exit model adds its exits under
/// <c>heads.</c>, and everything else KdTools knows goes into the metadata.
/// </summary>
public static class ModelFile
{
    public static void Save(string path, ClassifierNet model, ModelProvenance provenance,
        IEnumerable<KeyValuePair<string, Tensor>>? extraTensors = null, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var metadata = Describe(model, provenance);
        foreach (var (k, v) in extraMetadata ?? new Dictionary<string, string>()) metadata[k] = v;
        // Heads go under their own prefix so the unprefixed entries stay the plain backbone, loadable by PyTorch code as is.
        var backbone = model is MultiExitNet multi ? multi.Backbone : model;
        var tensors = ModuleState.Collect(backbone, "").ToList();
        if (model is MultiExitNet withHeads)
        {
            tensors.AddRange(ModuleState.Collect(withHeads.Heads, CheckpointMetadata.HeadsPrefix));
            metadata[CheckpointMetadata.HeadsKind] = withHeads.Heads.Kind;
            metadata[CheckpointMetadata.HeadsConfiguration] = withHeads.Heads.Configuration;
        }
        if (extraTensors is not null) tensors.AddRange(extraTensors);
        SafeTensorsFile.Write(path, tensors, metadata);
    }

    public static Dictionary<string, string> Describe(ClassifierNet model, ModelProvenance provenance)
    {
        var metadata = new Dictionary<string, string>
        {
            [CheckpointMetadata.Format] = CheckpointMetadata.FormatValue,
            [CheckpointMetadata.Version] = CheckpointMetadata.CurrentVersion.ToString(CultureInfo.InvariantCulture),
            [CheckpointMetadata.Kind] = CheckpointMetadata.KindModel,
            [CheckpointMetadata.Architecture] = model.Architecture,
            [CheckpointMetadata.Classes] = model.NumClasses.ToString(CultureInfo.InvariantCulture),
            [CheckpointMetadata.Method] = provenance.Method,
            [CheckpointMetadata.Dataset] = provenance.Dataset,
            [CheckpointMetadata.Epochs] = provenance.Epochs.ToString(CultureInfo.InvariantCulture),
            [CheckpointMetadata.TestTop1] = CheckpointMetadata.Invariant(provenance.TestTop1),
            [CheckpointMetadata.Created] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            [CheckpointMetadata.KdToolsVersion] = typeof(ModelFile).Assembly.GetName().Version?.ToString() ?? "",
        };
        if (provenance.Recipe.Length > 0) metadata[CheckpointMetadata.Recipe] = provenance.Recipe;
        if (model.InputSize is { } size)
            metadata[CheckpointMetadata.InputSize] = string.Create(CultureInfo.InvariantCulture, $"{size.Height},{size.Width}");
        if (model.Normalization is { } normalization)
            metadata[CheckpointMetadata.Normalization] = JsonSerializer.Serialize(new { mean = normalization.Mean, std = normalization.Std });
        foreach (var (k, v) in provenance.Extra ?? new Dictionary<string, string>()) metadata[k] = v;
        return metadata;
    }

    /// <summary>Builds the architecture the file names and loads the network's weights (strictly).</summary>
    public static LoadedModel Load(string path)
    {
        using var content = SafeTensorsFile.Read(path);
        var metadata = content.Metadata;
        CheckpointMetadata.RequireKdTools(metadata, path);
        var architecture = metadata[CheckpointMetadata.Architecture];
        if (!ArchitectureRegistry.Contains(architecture))
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                $"checkpoint '{path}' holds a '{architecture}', which this KdTools does not know; known: {string.Join(", ", ArchitectureRegistry.All.Select(a => a.Name))}", path);
        var classes = CheckpointMetadata.ReadInt(metadata, CheckpointMetadata.Classes, path);
        var normalization = ReadNormalization(metadata, path);
        var inputSize = ReadInputSize(metadata, path);
        RequireRoomFor(architecture, classes, NetworkTensors(content, path), path);
        if (metadata.TryGetValue(CheckpointMetadata.HeadsKind, out var headsKind))
            RequireRoomForHeads(headsKind, metadata.GetValueOrDefault(CheckpointMetadata.HeadsConfiguration, ""), content.Tensors, path);
        ClassifierNet model = ArchitectureRegistry.Create(architecture, classes);
        try
        {
            try
            {
                ModuleState.Load(model, NetworkTensors(content, path), "", $"{architecture} ({classes} classes)");
            }
            catch (KdException ex) when (ex.ErrorId == KdErrorIds.CheckpointMismatch)
            {
                throw new KdException(ex.ErrorId, ex.Kind, $"'{path}': {ex.Message}", path, ex);
            }
            if (metadata.TryGetValue(CheckpointMetadata.HeadsKind, out var kind))
            {
                var heads = ExitHeadsRegistry.Create(kind, model, metadata.GetValueOrDefault(CheckpointMetadata.HeadsConfiguration, ""), path);
                ModuleState.Load(heads, content.Tensors, CheckpointMetadata.HeadsPrefix, $"the {kind} heads of {architecture}");
                model = new MultiExitNet(model, heads);
            }
            model.Normalization = normalization;
            model.InputSize = inputSize;
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new LoadedModel(model, ReadProvenance(metadata), metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>
    /// Refuses, before the network is built, a file whose network entries hold far fewer values than
    /// <paramref name="architecture"/> for <paramref name="classes"/> classes has (more than 4 times theirs, beyond the
    /// first <see cref="AlwaysBuiltValues"/>): building first would let an edited class count (a billion classes in a
    /// few-kilobyte file) allocate gigabytes. A smaller shortfall is left to the strict load, whose error lists the keys.
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.CheckpointMismatch"/>.</exception>
    public static void RequireRoomFor(string architecture, int classes, IReadOnlyDictionary<string, Tensor> network, string path)
    {
        long needed = ArchitectureRegistry.StateElements(architecture, classes);
        long held = network.Values.Sum(tensor => tensor.numel());
        if (needed > AlwaysBuiltValues + 4 * held)
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                $"checkpoint '{path}' holds {held:N0} network values, but a {architecture} for {classes:N0} classes has {needed:N0}: " +
                "the file is damaged or holds another network; load it as the architecture and class count it was saved with", path);
    }

    /// <summary>
    /// The same for a multi-exit network's heads, whose sizes (input widths, channels, classes) come from the metadata's
    /// <c>heads_configuration</c>: refused before they are built when they hold more than 4 times the file's
    /// <c>heads.</c> values (beyond the first <see cref="AlwaysBuiltValues"/>).
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.CheckpointMismatch"/>; <see cref="KdErrorIds.CheckpointCorrupt"/>
    /// for a configuration that does not parse.</exception>
    public static void RequireRoomForHeads(string kind, string configuration, IReadOnlyDictionary<string, Tensor> tensors, string path)
    {
        long needed = ExitHeadsRegistry.StateElements(kind, configuration, path);
        long held = tensors.Where(entry => entry.Key.StartsWith(CheckpointMetadata.HeadsPrefix, StringComparison.Ordinal))
            .Sum(entry => entry.Value.numel());
        if (needed > AlwaysBuiltValues + 4 * held)
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                $"checkpoint '{path}' holds {held:N0} values of {kind} exit heads, but its heads configuration ('{configuration}') has {needed:N0}: " +
                "the file is damaged or its heads were saved with another configuration", path);
    }

    /// <summary>Networks up to this many values (16 MB of float32) are built whatever the file holds.</summary>
    private const long AlwaysBuiltValues = 4_000_000;

    /// <summary>
    /// Copies a file's network into <paramref name="network"/>, built for it: the unprefixed entries into the network
    /// (a multi-exit network's backbone) and, for a multi-exit network, the <c>heads.</c> entries into its heads.
    /// </summary>
    /// <param name="what">The network as a mismatch message names it.</param>
    public static void LoadNetwork(ClassifierNet network, SafeTensorsContent content, string path, string what)
    {
        var backbone = network is MultiExitNet multi ? multi.Backbone : network;
        ModuleState.Load(backbone, NetworkTensors(content, path), "", what);
        if (network is MultiExitNet withHeads)
            ModuleState.Load(withHeads.Heads, content.Tensors, CheckpointMetadata.HeadsPrefix, $"the {withHeads.Heads.Kind} heads of {what}");
    }

    /// <summary>
    /// The file's network entries under their state-dict keys: format 2's unprefixed entries (every entry outside
    /// <see cref="CheckpointMetadata.ReservedPrefixes"/>), or format 1's <c>model.</c> entries without the prefix.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> NetworkTensors(SafeTensorsContent content, string path)
    {
        var version = CheckpointMetadata.RequireKdTools(content.Metadata, path);
        if (version == 1)
            return content.Tensors
                .Where(t => t.Key.StartsWith(CheckpointMetadata.LegacyModelPrefix, StringComparison.Ordinal))
                .ToDictionary(t => t.Key[CheckpointMetadata.LegacyModelPrefix.Length..], t => t.Value);
        return content.Tensors
            .Where(t => !CheckpointMetadata.ReservedPrefixes.Any(p => t.Key.StartsWith(p, StringComparison.Ordinal)))
            .ToDictionary(t => t.Key, t => t.Value);
    }

    public static ModelProvenance ReadProvenance(IReadOnlyDictionary<string, string> metadata) => new()
    {
        Method = metadata.GetValueOrDefault(CheckpointMetadata.Method, ""),
        Dataset = metadata.GetValueOrDefault(CheckpointMetadata.Dataset, ""),
        Epochs = int.TryParse(metadata.GetValueOrDefault(CheckpointMetadata.Epochs), CultureInfo.InvariantCulture, out var e) ? e : 0,
        TestTop1 = double.TryParse(metadata.GetValueOrDefault(CheckpointMetadata.TestTop1), CultureInfo.InvariantCulture, out var t) ? t : double.NaN,
        Recipe = metadata.GetValueOrDefault(CheckpointMetadata.Recipe, ""),
    };

    /// <summary>The image size a checkpoint records ("height,width"), or null when it records none.</summary>
    public static ImageSize? ReadInputSize(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(CheckpointMetadata.InputSize, out var text)) return null;
        var parts = text.Split(',');
        return parts.Length == 2
               && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var height) && height > 0
               && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var width) && width > 0
            ? new ImageSize(height, width)
            : throw CheckpointMetadata.Corrupt(path, CheckpointMetadata.InputSize, text, "a height and width such as '32,32'");
    }

    /// <summary>The input normalisation a checkpoint records, or null when it records none.</summary>
    public static Data.InputNormalization? ReadNormalization(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(CheckpointMetadata.Normalization, out var text)) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return new Data.InputNormalization(
                doc.RootElement.GetProperty("mean").EnumerateArray().Select(v => v.GetSingle()).ToArray(),
                doc.RootElement.GetProperty("std").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw CheckpointMetadata.Corrupt(path, CheckpointMetadata.Normalization, text, "per-channel mean and std lists", ex);
        }
    }
}
