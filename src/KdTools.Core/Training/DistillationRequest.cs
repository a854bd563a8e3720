using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Training;

/// <summary>
/// One distillation (or, with the CE method and no teacher, plain training): what to train, from whom, how.
/// Give the student as an architecture name (a fresh network initialised from the settings' seed) or as a network
/// (trained in place), and the method as a name with options or as a method object.
/// </summary>
public sealed record DistillationRequest
{
    public required KdDataset Dataset { get; init; }

    /// <summary>Architecture of a fresh student (<see cref="ArchitectureRegistry"/>), initialised from <see cref="TrainingSettings.Seed"/>.</summary>
    public string? StudentArchitecture { get; init; }

    /// <summary>A network to train in place instead (a copy of a trained model, a multi-exit network).</summary>
    public ClassifierNet? Student { get; init; }

    /// <summary>The frozen teacher; null for teacher-free methods (it is ignored by them).</summary>
    public ClassifierNet? Teacher { get; init; }

    /// <summary>A registered method's name (<see cref="MethodRegistry"/>); ignored when <see cref="Method"/> is set.</summary>
    public string MethodName { get; init; } = "KD";

    /// <summary>Options of <see cref="MethodName"/> by name, case-insensitively; unknown names fail.</summary>
    public IReadOnlyDictionary<string, object?>? MethodOptions { get; init; }

    /// <summary>
    /// Weight α of the Hinton KD term: a feature method's KdWeight option, KD's (and TAKD's) Alpha. Overrides the
    /// same option in <see cref="MethodOptions"/>; a method without a KD term fails.
    /// </summary>
    public double? KdWeight { get; init; }

    /// <summary>A method object to use instead of <see cref="MethodName"/>; the caller keeps it (and disposes it).</summary>
    public DistillationMethod? Method { get; init; }

    /// <summary>
    /// The recipe the settings start from (<see cref="TrainingRecipes"/>, case-insensitive); null = the default of the
    /// dataset's task (<see cref="TrainingRecipes.DefaultFor"/>), with the student's values (a lightweight student's
    /// learning rate). Ignored when <see cref="Settings"/> is given.
    /// </summary>
    public string? Recipe { get; init; }

    /// <summary>The settings given explicitly, each on top of the recipe's (or of <see cref="Settings"/>).</summary>
    public TrainingOverrides? Overrides { get; init; }

    /// <summary>Complete settings to start from instead of a recipe (e.g. a recipe's with <c>with { … }</c>).</summary>
    public TrainingSettings? Settings { get; init; }

    /// <summary>The run's settings: <see cref="Settings"/> or the recipe's for the student, then <see cref="Overrides"/>.</summary>
    public TrainingSettings ResolveSettings()
    {
        if (Settings is { } exact) return Overrides is null ? exact : Overrides.ApplyTo(exact);
        return RunConfiguration.Resolve(Recipe, Dataset.Task, StudentArchitecture ?? Student?.Architecture, Overrides);
    }

    /// <summary>
    /// A resumable checkpoint (<c>*-last.safetensors</c>) of an interrupted run of the same request: the same settings,
    /// method and options, dataset contents and teacher weights, or the resume is refused listing the differences.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Start a new run even when the checkpoint folder holds an unfinished run of the same configuration (by default
    /// refused with <see cref="KdErrorIds.CheckpointUnfinished"/>: the new run would redo its work).
    /// </summary>
    public bool StartOver { get; init; }

    /// <summary>
    /// The name of the run's checkpoint files (<c>&lt;name&gt;-last.safetensors</c>) instead of one made from the method,
    /// student, seed, start time and a random suffix; a sweep names a row's run by its key so a rerun finds it. A method's
    /// earlier runs (TAKD's assistant) keep generated names.
    /// </summary>
    public string? RunName { get; init; }

    /// <summary>Receives the engine's per-epoch log (Information), cancellation notes (Warning).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Called after every batch and epoch, on the training thread.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>How the engine computes the run (tests, parity and the bench); null = <see cref="EngineOptions.Default"/>.</summary>
    internal EngineOptions? Engine { get; init; }
}
