using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// The teacher as a run computes it: a private copy of the caller's network, in eval mode, with every BatchNorm that
/// directly follows a convolution folded into it (<see cref="BatchNormFolding"/>): the same outputs up to float
/// rounding, one pass over the activations less per BatchNorm. The caller's
/// network is never changed (its BatchNorm statistics, its checkpoints, what OFD reads of its BatchNorms). A network the
/// architecture registry cannot rebuild, or one without a foldable BatchNorm, is used as it is.
/// </summary>
internal sealed class FrozenTeacher : IDisposable
{
    private readonly bool _ownsNetwork;

    private FrozenTeacher(ClassifierNet network, bool ownsNetwork, int foldedNorms)
    {
        Network = network;
        _ownsNetwork = ownsNetwork;
        FoldedNorms = foldedNorms;
    }

    /// <summary>What computes the teacher's outputs during the run.</summary>
    public ClassifierNet Network { get; }

    /// <summary>How many BatchNorms the copy folded (0 when the caller's network is used as it is).</summary>
    public int FoldedNorms { get; }

    /// <summary>
    /// The frozen form of <paramref name="teacher"/> for images of <paramref name="channels"/> × <paramref name="height"/>
    /// × <paramref name="width"/>, on <paramref name="device"/>, in eval mode.
    /// </summary>
    public static FrozenTeacher Create(ClassifierNet teacher, long channels, long height, long width, Device device)
    {
        ClassifierNet copy;
        try
        {
            copy = ArchitectureRegistry.Clone(teacher);
        }
        catch (KdException e) when (e.ErrorId == KdErrorIds.ArchitectureUnknown)
        {
            return new FrozenTeacher(teacher, ownsNetwork: false, foldedNorms: 0);
        }
        var dtype = teacher.parameters().First().dtype;
        copy.to(device);
        copy.eval();
        // One forward pass on any batch of the right shape finds the conv → BatchNorm pairs.
        using var probe = zeros([2, channels, height, width], dtype, device);
        int folded = BatchNormFolding.Fold(copy, probe);
        if (folded > 0) return new FrozenTeacher(copy, ownsNetwork: true, folded);
        copy.Dispose();
        return new FrozenTeacher(teacher, ownsNetwork: false, foldedNorms: 0);
    }

    public void Dispose()
    {
        if (_ownsNetwork) Network.Dispose();
    }
}
