using KdTools.Core.Data;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Training;

/// <summary>
/// Heads to train on a trained network's stages (DIH's setting): which stages, on what data, how. With no recipe
/// named, the settings are DIH's head recipe over <see cref="HeadFineTuning.DefaultEpochs"/> epochs.
/// </summary>
public sealed record HeadFineTuningRequest
{
    /// <summary>The trained network; its backbone stays frozen.</summary>
    public required ClassifierNet Network { get; init; }

    public required KdDataset Dataset { get; init; }

    /// <summary>1-based stages to mount heads on; null = every stage of the architecture.</summary>
    public int[]? Stages { get; init; }

    /// <summary>The recipe to start from (<see cref="TrainingRecipes"/>); null = <see cref="HeadFineTuning.DefaultSettings"/>.</summary>
    public string? Recipe { get; init; }

    /// <summary>The settings given explicitly, each on top of the recipe's.</summary>
    public TrainingOverrides? Overrides { get; init; }

    /// <summary>The resumable checkpoint of a stopped run of the same configuration, to continue it.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Start even when the checkpoint folder holds an unfinished run of the same configuration.</summary>
    public bool StartOver { get; init; }

    public ILogger? Logger { get; init; }
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>The run's settings: the recipe's (DIH's head recipe when none is named), then the overrides.</summary>
    public TrainingSettings ResolveSettings()
    {
        var recipe = Recipe is null
            ? HeadFineTuning.DefaultSettings()
            : RunConfiguration.Resolve(Recipe, PredictionTask.Classification, Network.Architecture, overrides: null);
        return Overrides is null ? recipe : Overrides.ApplyTo(recipe);
    }
}
