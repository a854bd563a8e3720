using System.Globalization;
using KdTools.Core.Models;
using TorchSharp.Modules;

namespace KdTools.Core.Checkpoints;

/// <summary>What <see cref="ModelImport.Load"/> is asked to load.</summary>
public sealed record ModelImportRequest
{
    /// <summary>A safetensors file: a KdTools checkpoint, or a state dict written by PyTorch.</summary>
    public required string Path { get; init; }

    /// <summary>Registry name of the network the file holds. Required for a plain state dict; for a KdTools checkpoint,
    /// checked against the one it records.</summary>
    public string? Architecture { get; init; }

    /// <summary>Class count. Required for a plain state dict; for a KdTools checkpoint, checked against the one it records
    /// unless <see cref="SkipClassifier"/> (then it is the new class count).</summary>
    public int? Classes { get; init; }

    /// <summary>Leave the final classifier out (its weights are the file's only class-count-dependent tensors) and keep
    /// the network's freshly initialised one, for fine-tuning to another class count. A KdTools checkpoint's extra exits
    /// are left out too.</summary>
    public bool SkipClassifier { get; init; }

    /// <summary>Seed of the initial weights a skipped classifier keeps.</summary>
    public long Seed { get; init; } = 1;
}

/// <summary>A network loaded by <see cref="ModelImport.Load"/>.</summary>
/// <param name="Model">The network, on the CPU, in training mode.</param>
/// <param name="Provenance">What the file says about it (empty for a plain state dict).</param>
/// <param name="IsKdToolsCheckpoint">Whether the file carried KdTools' metadata.</param>
/// <param name="SkippedKeys">File entries that were not loaded, with their shapes ("fc.weight [100, 64]").</param>
/// <param name="InitializedKeys">Network keys that kept their initial values: a skipped classifier's, and BatchNorm
/// counters a PyTorch file may omit.</param>
public sealed record ImportedModel(ClassifierNet Model, ModelProvenance Provenance, bool IsKdToolsCheckpoint,
    IReadOnlyList<string> SkippedKeys, IReadOnlyList<string> InitializedKeys);

/// <summary>
/// Loads a network from a KdTools checkpoint or from a state dict that PyTorch wrote
/// (<c>safetensors.torch.save_file(model.state_dict(), path)</c>) with the reference key names (RepDistiller's
/// attribute names, which KdTools' architectures keep). Loading is strict: every missing, unexpected or mis-shaped key is
/// reported in one error. Tensors may be stored in any floating type (float64 is converted); the BatchNorm counters
/// (<c>num_batches_tracked</c>) may be absent from a PyTorch file, as PyTorch's own loader allows.
/// </summary>
public static class ModelImport
{
    public static ImportedModel Load(ModelImportRequest request)
    {
        var path = request.Path;
        var metadata = SafeTensorsFile.ReadMetadata(path);
        bool isKdTools = metadata.GetValueOrDefault(CheckpointMetadata.Format) == CheckpointMetadata.FormatValue;
        string architecture;
        int classes;
        ModelProvenance provenance;
        if (isKdTools)
        {
            CheckpointMetadata.RequireKdTools(metadata, path);
            architecture = metadata[CheckpointMetadata.Architecture];
            var saved = CheckpointMetadata.ReadInt(metadata, CheckpointMetadata.Classes, path);
            if (request.Architecture is { } asked && !asked.Equals(architecture, StringComparison.OrdinalIgnoreCase))
                throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidArgument,
                    $"checkpoint '{path}' holds a {architecture}, not a {asked}", path);
            if (request.Classes is { } count && count != saved && !request.SkipClassifier)
                throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidArgument,
                    $"checkpoint '{path}' holds a {architecture} for {saved} classes, not {count}; " +
                    $"to fine-tune it for {count} classes, load it without its classifier", path);
            if (!request.SkipClassifier)
            {
                var loaded = ModelFile.Load(path);
                return new ImportedModel(loaded.Model, loaded.Provenance, true, [], []);
            }
            classes = request.Classes ?? saved;
            // The new classifier has not been trained: the recorded accuracy no longer describes this network.
            provenance = ModelFile.ReadProvenance(metadata) with { TestTop1 = double.NaN };
        }
        else
        {
            if (request.Architecture is null || request.Classes is null)
                throw new KdException(KdErrorIds.CheckpointArchitectureRequired, KdErrorKind.InvalidArgument,
                    $"'{path}' is a plain state dict without KdTools metadata, so it does not say which network it holds; " +
                    "name its architecture and class count", path);
            architecture = request.Architecture;
            classes = request.Classes.Value;
            provenance = new ModelProvenance();
        }

        using var content = SafeTensorsFile.Read(path);
        if (!request.SkipClassifier)
            ModelFile.RequireRoomFor(architecture, classes, isKdTools ? ModelFile.NetworkTensors(content, path) : content.Tensors, path);
        var model = ArchitectureRegistry.Create(architecture, classes, request.Seed);
        try
        {
            var classifier = request.SkipClassifier ? ClassifierKeys(model) : [];
            var rules = (isKdTools ? StateLoadRules.Strict : StateLoadRules.PyTorch) with { Skip = classifier.Contains };
            var network = isKdTools ? ModelFile.NetworkTensors(content, path) : content.Tensors;
            IReadOnlyList<string> initialized;
            try
            {
                initialized = ModuleState.Load(model, network, "", $"{model.Architecture} ({classes} classes)", rules);
            }
            catch (KdException ex) when (ex.ErrorId == KdErrorIds.CheckpointMismatch)
            {
                throw new KdException(ex.ErrorId, ex.Kind, $"'{path}': {ex.Message}", path, ex);
            }
            // A KdTools file's other entries (a multi-exit model's heads) are left out with the classifier.
            var networkEntries = network.Values.ToHashSet(ReferenceEqualityComparer.Instance);
            var skipped = network.Where(entry => classifier.Contains(entry.Key))
                .Concat(content.Tensors.Where(entry => !networkEntries.Contains(entry.Value)))
                .Select(entry => $"{entry.Key} [{string.Join(", ", entry.Value.shape)}]")
                .ToList();
            if (isKdTools)
            {
                model.Normalization = ModelFile.ReadNormalization(metadata, path);
                model.InputSize = ModelFile.ReadInputSize(metadata, path);
            }
            return new ImportedModel(model, provenance, isKdTools, skipped, initialized);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The state keys of the network's final classifier: the last linear layer with one output per class (the module
    /// order follows the forward pass in every architecture's definition).
    /// </summary>
    private static HashSet<string> ClassifierKeys(ClassifierNet model)
    {
        var name = model.named_modules()
            .Where(entry => entry.module is Linear linear && linear.weight!.shape[0] == model.NumClasses)
            .Select(entry => entry.name)
            .LastOrDefault()
            ?? throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidOperation,
                $"{model.Architecture} has no linear classifier with one output per class, so there is none to leave out", model.Architecture);
        return model.state_dict().Keys.Where(key => key.StartsWith(name + ".", StringComparison.Ordinal)).ToHashSet();
    }
}
