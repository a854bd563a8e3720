namespace KdTools.Core.Training;

/// <summary>
/// The engine's switches that change how a run is computed, not what it computes: every default is what a user's run
/// does. The tests, the parity layer and the bench set them through <see cref="DistillationRequest.Engine"/> to compare
/// paths or watch steps; results are the same up to float rounding either way (bit-identical for the prefetch).
/// </summary>
internal sealed record EngineOptions
{
    /// <summary>What a user's run uses.</summary>
    public static EngineOptions Default { get; } = new();

    /// <summary>Sees the initial weights and every step (the parity tests); null, the default, costs nothing.</summary>
    public ITrainingObserver? Observer { get; init; }

    /// <summary>
    /// Prepare each batch (indexing, augmentation, normalisation) on a background thread while the previous step runs;
    /// false prepares it in line (the tests compare both: the results are bit-identical).
    /// </summary>
    public bool PrepareBatchesAhead { get; init; } = true;

    /// <summary>Reuse the teacher's outputs across epochs where they cannot change (<see cref="TeacherOutputCache"/>); the tests turn it off to compare.</summary>
    public bool CacheTeacherOutputs { get; init; } = true;

    /// <summary>
    /// Stop a run whose loss runs away. The parity layer turns it off: it replays a few steps of untrained networks
    /// against PyTorch, where the formulas, not convergence, are checked.
    /// </summary>
    public bool StopOnDivergence { get; init; } = true;

    /// <summary>
    /// Run the teacher as a BatchNorm-folded copy and feed channels-last float32 inputs (<see cref="FrozenTeacher"/>,
    /// <see cref="Models.ChannelsLast"/>): the same values up to float rounding, checked against the plain path by their own
    /// tests. The parity layer turns it off, so that a float32 run keeps the rounding of PyTorch's own layout and its
    /// replay can match it step by step.
    /// </summary>
    public bool FastPaths { get; init; } = true;

    /// <summary>Called after every epoch of every stage with its record (on the training thread); the tests watch memory with it.</summary>
    public Action<EpochRecord>? EpochCompleted { get; init; }
}
