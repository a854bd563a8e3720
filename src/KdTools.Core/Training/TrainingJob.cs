using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;

namespace KdTools.Core.Training;

/// <summary>What the engine trains: a student, optionally a (frozen) teacher, a method and the data.</summary>
internal sealed record TrainingJob
{
    public required ClassifierNet Student { get; init; }

    /// <summary>Frozen: always in eval mode under no_grad, never updated.</summary>
    public ClassifierNet? Teacher { get; init; }

    public required DistillationMethod Method { get; init; }
    public required KdDataset Dataset { get; init; }

    /// <summary>What the networks predict; follows from the dataset.</summary>
    public ITrainingTask Task => TrainingTasks.For(Dataset);

    /// <summary>A checkpoint written by an earlier run of the same job, to continue from where it stopped.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Start even when the checkpoint folder holds an unfinished run with this job's identity (by default refused: the
    /// new run would redo that run's work instead of resuming it).
    /// </summary>
    public bool StartOver { get; init; }

    /// <summary>The run's file name stem; null for a generated one (<see cref="RunFiles.For"/>).</summary>
    public string? RunName { get; init; }

    /// <summary>
    /// For a <see cref="MultiExitNet"/> student: keep its backbone in eval mode (BN statistics untouched) so only the
    /// heads learn. The caller also turns off the backbone's requires_grad, which keeps autograd out of it entirely.
    /// </summary>
    public bool FreezeBackbone { get; init; }
}
