using KdTools.Core.Data;
using KdTools.Core.Models;

namespace KdTools.Core.Training;

/// <summary>
/// A paper's or toolkit's reference training setup: epochs, learning rate and schedule, Nesterov, weight decay, batch
/// size and augmentation, as its official code runs them. Milestones are fractions of the epochs, so a run shortened
/// with <c>with { Epochs = … }</c> keeps the recipe's shape.
/// </summary>
/// <param name="Name">Registry key (<c>RepDistiller</c>, <c>DIH</c>, …).</param>
/// <param name="Source">Where the values come from: the repository and script, and any deviation.</param>
/// <param name="Settings">The recipe's settings for a regular student.</param>
public sealed record TrainingRecipe(string Name, string Source, TrainingSettings Settings)
{
    /// <summary>The learning rate for a lightweight student (<see cref="ArchitectureInfo.Lightweight"/>); null = the same.</summary>
    public double? LightweightLearningRate { get; init; }

    /// <summary>The task the recipe's reference trains (its augmentation is that task's).</summary>
    public PredictionTask Task { get; init; } = PredictionTask.Classification;

    /// <summary>
    /// A quick recipe: the methods' pre-stages that the caller does not size run for a share of the main stage
    /// (<see cref="Methods.MethodOptions.QuickPreStageEpochs"/>, RepDistiller's 30 of 240); a paper's recipe keeps
    /// the paper's lengths.
    /// </summary>
    public bool PreStagesScaleWithRun { get; init; }

    /// <summary>Where <c>Get-KdRecipe</c> lists the recipe (the defaults first, then the papers' in the order they were added).</summary>
    internal int ListingOrder { get; init; }

    /// <summary>
    /// The task's own variant of a recipe of the same name (<c>Default</c>'s segmentation one), which a run of that
    /// task gets instead of the classification one.
    /// </summary>
    internal bool IsTaskVariant { get; init; }

    /// <summary>The registry key: the name, with the task for a task variant.</summary>
    internal string Key => IsTaskVariant ? $"{Name}/{Task}" : Name;

    /// <summary>The recipe's settings for the registered <paramref name="studentArchitecture"/>.</summary>
    public TrainingSettings SettingsFor(string studentArchitecture) => SettingsFor(ArchitectureRegistry.Get(studentArchitecture));

    /// <summary>The recipe's settings for <paramref name="student"/>: a lightweight student may get a lower rate.</summary>
    public TrainingSettings SettingsFor(ArchitectureInfo student) =>
        LightweightLearningRate is { } rate && student.Lightweight ? Settings with { LearningRate = rate } : Settings;
}
