using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// Everything a training step reads before its forward passes: the batch's inputs for the student (and for a teacher
/// normalised its own way), labels and dataset indices on the training device, and the step's generator, positioned
/// after the augmentation's draws so the method's draws (CRD's negatives) continue from where they would have.
/// Owns its tensors and generator until <see cref="AttachTo"/> hands the tensors to the step's dispose scope.
/// </summary>
internal sealed class StepInputs : IDisposable
{
    private bool _attached;

    private StepInputs(int batchIndex, long seed, Generator random, Tensor inputs, Tensor labels, Tensor indices, Tensor? teacherInputs,
        double preparationSeconds)
    {
        PreparationSeconds = preparationSeconds;
        BatchIndex = batchIndex;
        Seed = seed;
        Random = random;
        Inputs = inputs;
        Labels = labels;
        Indices = indices;
        TeacherInputs = teacherInputs;
    }

    public int BatchIndex { get; }

    /// <summary>How long <see cref="Prepare"/> took (on whichever thread it ran).</summary>
    public double PreparationSeconds { get; }

    /// <summary>The step's seed, from (run seed, stage, epoch, batch).</summary>
    public long Seed { get; }

    public Generator Random { get; }

    /// <summary>The student's inputs: augmented, normalised, on the device, channels-last where that pays.</summary>
    public Tensor Inputs { get; }

    public Tensor Labels { get; }
    public Tensor Indices { get; }

    /// <summary>The teacher's inputs (the same tensor as <see cref="Inputs"/> when both are normalised alike); null without a teacher.</summary>
    public Tensor? TeacherInputs { get; }

    /// <summary>
    /// Makes the tensors one batch of the training loop: batch <paramref name="batchIndex"/> of
    /// <paramref name="order"/>, augmented with the draws of a generator seeded with <paramref name="seed"/>, and, for a
    /// teacher normalised otherwise, the same augmentation replayed from a second generator seeded alike. Runs on any
    /// thread: its tensors belong to no dispose scope until <see cref="AttachTo"/>.
    /// </summary>
    public static StepInputs Prepare(BatchLoader loader, Tensor order, int batchIndex, long seed, ITrainingTask task,
        InputNormalization studentNormalization, InputNormalization? teacherNormalization, TrainingSettings settings, Device device,
        bool channelsLast)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var random = new Generator((ulong)seed);
        try
        {
            using var scope = NewDisposeScope();
            var batch = loader.GetBatch(order, batchIndex);
            var (inputs, labels) = task.Prepare(batch, studentNormalization, settings, random, device);
            if (channelsLast) inputs = ChannelsLast.Apply(inputs);
            Tensor? teacherInputs = null;
            if (teacherNormalization is not null)
            {
                if (teacherNormalization.Equals(studentNormalization)) teacherInputs = inputs;
                else
                {
                    // A teacher trained with other statistics sees the same augmented images, normalised its own way.
                    using var replay = new Generator((ulong)seed);
                    teacherInputs = task.Prepare(batch, teacherNormalization, settings, replay, device).Inputs;
                    if (channelsLast) teacherInputs = ChannelsLast.Apply(teacherInputs);
                }
            }
            var indices = batch.Indices.to(device);
            scope.Detach(inputs, labels, indices);
            if (teacherInputs is not null && !ReferenceEquals(teacherInputs, inputs)) scope.Detach(teacherInputs);
            return new StepInputs(batchIndex, seed, random, inputs, labels, indices, teacherInputs,
                System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        catch
        {
            random.Dispose();
            throw;
        }
    }

    /// <summary>Hands the tensors to <paramref name="scope"/> (the step's): they die with it; the generator stays with this object.</summary>
    public void AttachTo(DisposeScope scope)
    {
        scope.Attach(Inputs, Labels, Indices);
        if (TeacherInputs is not null && !ReferenceEquals(TeacherInputs, Inputs)) scope.Attach(TeacherInputs);
        _attached = true;
    }

    public void Dispose()
    {
        Random.Dispose();
        if (_attached) return;
        Inputs.Dispose();
        Labels.Dispose();
        Indices.Dispose();
        if (TeacherInputs is not null && !ReferenceEquals(TeacherInputs, Inputs)) TeacherInputs.Dispose();
    }
}

/// <summary>
/// Prepares each batch of an epoch one step ahead, on a background thread, while the current step runs: indexing,
/// augmentation and normalisation overlap the forward and backward passes (and, for a streamed dataset, reading and
/// decoding the images). Every batch is made by the same <see cref="StepInputs.Prepare"/> call, with its own generator,
/// as it would be in line, so a run is bit-identical with and without the overlap. libtorch's dispose scopes are
/// thread-local: the background work keeps its tensors out of every scope until the step attaches them to its own.
/// </summary>
internal sealed class StepInputPrefetcher : IDisposable
{
    private readonly Func<int, StepInputs> _prepare;
    private readonly int _count;
    private readonly bool _ahead;
    private Task<StepInputs>? _pending;

    /// <param name="prepare">Makes batch i's inputs (thread-safe: two calls never share mutable state).</param>
    /// <param name="count">Batches in the epoch.</param>
    /// <param name="ahead">Prepare the next batch in the background (false: each batch when taken, on the caller's thread).</param>
    public StepInputPrefetcher(Func<int, StepInputs> prepare, int count, bool ahead)
    {
        _prepare = prepare;
        _count = count;
        _ahead = ahead;
    }

    /// <summary>Batch <paramref name="batchIndex"/>'s inputs (owned by the caller), and the next batch started in the background.</summary>
    public StepInputs Take(int batchIndex)
    {
        StepInputs inputs;
        if (_pending is { } pending)
        {
            _pending = null;
            inputs = pending.GetAwaiter().GetResult();
            if (inputs.BatchIndex != batchIndex)
            {
                inputs.Dispose();
                inputs = _prepare(batchIndex);
            }
        }
        else inputs = _prepare(batchIndex);
        int next = batchIndex + 1;
        if (_ahead && next < _count) _pending = Task.Run(() => _prepare(next));
        return inputs;
    }

    /// <summary>Waits for a batch still being prepared and frees it.</summary>
    public void Dispose()
    {
        if (_pending is not { } pending) return;
        _pending = null;
        try
        {
            pending.GetAwaiter().GetResult().Dispose();
        }
        catch (Exception)
        {
            // The batch would have failed when taken; nobody takes it now (the epoch stopped first).
        }
    }
}
