using KdTools.Core.Models;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>What a method sees in one training step: the batch and both networks' outputs.</summary>
public sealed class StepContext
{
    private readonly ModelOutput? _student;

    /// <param name="student">Null in a pre-stage that does not train the student: its forward pass would be wasted there.</param>
    /// <param name="epochs">Length of the stage being trained, in epochs (warm-ups and ramps scale with it).</param>
    /// <param name="random">This step's own generator; null gives a generator seeded with 0 (tests).</param>
    public StepContext(Tensor inputs, Tensor labels, Tensor indices, ModelOutput? student, ModelOutput? teacher, int epoch,
        int epochs = 1, Generator? random = null)
    {
        Epochs = epochs;
        Random = random ?? new Generator(0);
        Inputs = inputs;
        Labels = labels;
        Indices = indices;
        _student = student;
        Teacher = teacher;
        Epoch = epoch;
    }

    /// <summary>0-based index of this step's batch in its epoch (continuous warm-ups read it).</summary>
    public int Batch { get; init; }

    /// <summary>Batches per epoch of the stage; 1 when unknown (tests).</summary>
    public int Batches { get; init; } = 1;

    /// <summary>Normalised (and augmented) images on the training device.</summary>
    public Tensor Inputs { get; }

    /// <summary>Class labels, int64 [B].</summary>
    public Tensor Labels { get; }

    /// <summary>Dataset indices of the samples, int64 [B] (memory-bank methods such as CRD use them).</summary>
    public Tensor Indices { get; }

    /// <summary>The student's outputs; a pre-stage that does not train the student (TrainsStudent false) has none.</summary>
    public ModelOutput Student => _student ?? throw new InvalidOperationException(
        "the student does not run in a pre-stage that does not train it; set TrainsStudent on the pre-stage to read its outputs");

    /// <summary>The teacher's outputs, computed in eval mode under no_grad; null for teacher-free methods.</summary>
    public ModelOutput? Teacher { get; }

    /// <summary>0-based epoch of the stage being trained.</summary>
    public int Epoch { get; }

    /// <summary>Number of epochs of the stage being trained (so warm-ups keep their fraction in shortened runs).</summary>
    public int Epochs { get; }

    /// <summary>
    /// This step's random generator (CPU), seeded from the run's seed and the step's position: every random draw of a
    /// method (negatives, masks) takes it, so a run never touches libtorch's global generator and resumes bit-identically.
    /// </summary>
    public Generator Random { get; }

    /// <summary>
    /// Where <see cref="RecordDraw"/> puts draws when the engine is observed (the parity tests replay them); null when
    /// nobody observes, which makes recording free.
    /// </summary>
    internal Dictionary<string, Tensor>? Draws { get; init; }

    /// <summary>
    /// Makes a random draw of this step (for example CRD's negative indices) visible to an observer of the engine, so a
    /// reference implementation can replay the step with the same draw. Does nothing when the engine is not observed.
    /// </summary>
    public void RecordDraw(string name, Tensor values) => Draws?.Add(name, values);

    /// <summary>The teacher's output, or a clear error when a method that needs one runs without it.</summary>
    public ModelOutput RequireTeacher() => Teacher ?? throw new KdException(KdErrorIds.MethodNeedsTeacher,
        KdErrorKind.InvalidOperation, "this method needs a teacher; give it one");
}
