namespace KdTools.Core.Training;

/// <summary>
/// Where one run's wall-clock time went, in seconds (the bench's end-to-end breakdown). Filled on the training thread;
/// <see cref="InputPreparation"/> is the time the batches took to prepare wherever they were prepared (on the background
/// thread it overlaps the steps), <see cref="InputWait"/> the part of it the training thread waited for.
/// </summary>
internal sealed class TrainingTimings
{
    /// <summary>The teacher's forward passes (or reading its cached outputs).</summary>
    public double Teacher { get; set; }

    /// <summary>The student's forward pass, the losses, backward and the optimizer step, and reading the loss back.</summary>
    public double StudentStep { get; set; }

    /// <summary>Indexing, augmenting and normalising the batches (overlapped with the steps when prepared ahead).</summary>
    public double InputPreparation { get; set; }

    /// <summary>Time the training thread waited for a batch to be ready.</summary>
    public double InputWait { get; set; }

    public double Evaluation { get; set; }

    /// <summary>Writing the resumable and best checkpoints.</summary>
    public double Checkpointing { get; set; }

    /// <summary>Steps whose teacher outputs came from the <see cref="TeacherOutputCache"/> (no teacher forward).</summary>
    public int CachedTeacherSteps { get; set; }

    /// <summary>The whole run, from its start to its result.</summary>
    public double Total { get; set; }

    /// <summary>What the parts above leave of <see cref="Total"/> (setup, folding the teacher, logging, GC, progress events).</summary>
    public double Other => Total - Teacher - StudentStep - InputWait - Evaluation - Checkpointing;
}
