using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>
/// Draws CRD's contrast indices: per sample, column 0 is the positive and columns 1..k the negatives, as RepDistiller's
/// <c>CIFAR100InstanceSample</c> (<see cref="CrdSampling.Exact"/>, <see cref="CrdSampling.Relax"/>) or its uniform
/// alias sampler (<see cref="CrdSampling.Uniform"/>). Every draw takes the step's generator, on the CPU.
/// </summary>
internal sealed class CrdContrastSampler : IDisposable
{
    private readonly CrdSampling _mode;
    private readonly long _samples;
    private readonly Tensor? _labels;
    private readonly long[] _otherClassCount = [];

    /// <param name="mode">Where the rows come from.</param>
    /// <param name="samples">Training-set size N.</param>
    /// <param name="negatives">k, at most N − 1.</param>
    /// <param name="labels">The training labels, int64 [N]; needed unless <paramref name="mode"/> is Uniform (copied).</param>
    public CrdContrastSampler(CrdSampling mode, long samples, long negatives, Tensor? labels)
    {
        _mode = mode;
        _samples = samples;
        Negatives = negatives;
        if (mode == CrdSampling.Uniform) return;
        if (labels is null || labels.dim() != 1 || labels.shape[0] != samples)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"CRD's {mode} sampling draws negatives by class and needs the {samples} training labels; use Sampling Uniform where there are none");
        _labels = labels.to(ScalarType.Int64, CPU, copy: true);
        using var classCounts = _labels.bincount(null);
        var counts = classCounts.data<long>().ToArray();
        _otherClassCount = counts.Select(c => samples - c).ToArray();
        if (counts.Count(c => c > 0) < 2)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"CRD's {mode} sampling draws negatives from other classes, but the training set has only one class; use Sampling Uniform");
    }

    /// <summary>k, the negatives per positive.</summary>
    public long Negatives { get; }

    /// <summary>[B, k + 1] dataset indices for the batch's <paramref name="indices"/>, on their device.</summary>
    public Tensor Draw(Tensor indices, Generator random)
    {
        using var scope = NewDisposeScope();
        var own = indices.cpu();
        long batch = own.shape[0];
        Tensor contrast;
        if (_mode == CrdSampling.Uniform)
        {
            contrast = randint(0, _samples, [batch, Negatives + 1], dtype: ScalarType.Int64, generator: random);
            contrast.select(1, 0).copy_(own);
        }
        else
        {
            var classes = _labels!.index_select(0, own);
            var sameClass = _labels.unsqueeze(0).eq(classes.unsqueeze(1));
            var positive = _mode == CrdSampling.Exact ? own.unsqueeze(1)
                : multinomial(sameClass.to(ScalarType.Float32), 1, generator: random);
            contrast = cat([positive, OtherClassDraws(sameClass.logical_not().to(ScalarType.Float32), classes, random)], 1);
        }
        return contrast.to(indices.device).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// k indices per row among those of weight 1, without replacement where the row's other classes hold at least k
    /// samples and with replacement where they hold fewer, as the reference decides per sample.
    /// </summary>
    private Tensor OtherClassDraws(Tensor weights, Tensor classes, Generator random)
    {
        var rowClasses = classes.data<long>().ToArray();
        var small = Enumerable.Range(0, rowClasses.Length).Where(i => _otherClassCount[rowClasses[i]] < Negatives).Select(i => (long)i).ToArray();
        if (small.Length == 0) return multinomial(weights, Negatives, replacement: false, generator: random);
        if (small.Length == rowClasses.Length) return multinomial(weights, Negatives, replacement: true, generator: random);
        var large = Enumerable.Range(0, rowClasses.Length).Select(i => (long)i).Except(small).ToArray();
        var draws = empty([rowClasses.Length, Negatives], ScalarType.Int64);
        foreach (var (rows, replacement) in new[] { (large, false), (small, true) })
        {
            var index = tensor(rows);
            draws.index_copy_(0, index, multinomial(weights.index_select(0, index), Negatives, replacement, random));
        }
        return draws;
    }

    public void Dispose() => _labels?.Dispose();
}
