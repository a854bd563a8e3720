using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// The teacher's outputs for every training sample, kept from the first time they are computed. Without augmentation
/// a sample's teacher input is the same every epoch, so the teacher's logits (and the few features a method reads, see
/// <see cref="Methods.DistillationMethod.TeacherFeaturesRead"/>) are too: from the second epoch on, a batch whose
/// samples are all known takes its rows from here instead of a teacher forward pass (torchdistill's teacher-output
/// cache). A cached row was computed in another batch, so it can differ from a recomputed one in the last bits.
/// </summary>
internal sealed class TeacherOutputCache : IDisposable
{
    /// <summary>What the cache may hold at most; a dataset whose outputs need more runs the teacher every step.</summary>
    public const long MaxBytes = 1L << 30;

    private readonly int _samples;
    private readonly IReadOnlyCollection<string> _features;
    private readonly bool[] _known;
    private Tensor? _logits;
    private bool _allocated;
    private readonly Dictionary<string, Tensor> _rows = new();

    private TeacherOutputCache(int samples, IReadOnlyCollection<string> features)
    {
        _samples = samples;
        _features = features;
        _known = new bool[samples];
    }

    /// <summary>
    /// A cache for <paramref name="job"/>, or null where outputs can change between epochs or nobody says which ones
    /// are read: no teacher, augmentation on, a method that does not name the teacher features it reads, or a task other
    /// than classification (whose inputs <paramref name="augmentation"/> alone decides).
    /// </summary>
    public static TeacherOutputCache? For(TrainingJob job, AugmentationPolicy augmentation) =>
        job.Teacher is null || !augmentation.IsNone || job.Task is not ClassificationTask || job.Method.TeacherFeaturesRead is not { } features
            ? null
            : new TeacherOutputCache(job.Dataset.Train.Count, features);

    /// <summary>Whether the cache gave up (its rows would exceed <see cref="MaxBytes"/>).</summary>
    public bool Disabled { get; private set; }

    /// <summary>
    /// The teacher's outputs for the samples at <paramref name="indices"/> (training-split positions): the kept rows when
    /// every sample is known, else <paramref name="compute"/>'s outputs, which are kept. Call under no_grad, inside the
    /// step's dispose scope (the returned tensors belong to it).
    /// </summary>
    public ModelOutput Outputs(Tensor indices, Func<ModelOutput> compute)
    {
        var positions = indices.cpu().data<long>().ToArray();
        if (_allocated && positions.All(i => _known[i]))
        {
            var features = _features.ToDictionary(name => name, name => _rows[name].index_select(0, indices));
            // A teacher pass that stopped before its classifier (the method reads no logits) left none to keep.
            return _logits is null ? ModelOutput.WithoutLogits(features) : new ModelOutput(_logits.index_select(0, indices), features);
        }
        var output = compute();
        if (!Disabled) Keep(output, indices, positions);
        return output;
    }

    private void Keep(ModelOutput output, Tensor indices, long[] positions)
    {
        if (!_allocated)
        {
            var kept = _features.Select(output.Feature).ToList();
            if (output.HasLogits) kept.Add(output.Logits);
            if (kept.Sum(t => t[0].numel() * t.element_size()) * _samples > MaxBytes)
            {
                Disabled = true;
                return;
            }
            if (output.HasLogits) _logits = Rows(output.Logits);
            foreach (var name in _features) _rows[name] = Rows(output.Feature(name));
            _allocated = true;
        }
        _logits?.index_copy_(0, indices, output.Logits);
        foreach (var name in _features) _rows[name].index_copy_(0, indices, output.Feature(name));
        foreach (var i in positions) _known[i] = true;
    }

    /// <summary>[samples, …] zeros shaped like one row of <paramref name="batch"/>, kept out of the step's scope.</summary>
    private Tensor Rows(Tensor batch)
    {
        var shape = batch.shape.ToArray();
        shape[0] = _samples;
        return zeros(shape, batch.dtype, batch.device).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _logits?.Dispose();
        foreach (var rows in _rows.Values) rows.Dispose();
    }
}
