using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Gathers the named features of one forward pass and hands them, with the logits, out of the pass's dispose
/// scope; every other tensor the pass made dies with that scope.
/// </summary>
internal sealed class FeatureCollector
{
    private readonly Dictionary<string, Tensor> _features = new();

    /// <summary>What the pass is asked for (<see cref="FeatureRequest"/>); null: every feature and the logits.</summary>
    private readonly FeatureRequest.Wanted? _wanted = FeatureRequest.Take();

    private bool Keeps(string name) => _wanted is null || _wanted.Features.Contains(name);

    /// <summary>
    /// True once the pass holds every feature it was asked for and nobody reads its logits: the network may return
    /// <see cref="Finish()"/> at once and skip its later stages, its pooling and its classifier.
    /// </summary>
    public bool Complete => _wanted is { Logits: false } wanted && _features.Count == wanted.Features.Count;

    /// <summary>Records <paramref name="feature"/> under <paramref name="name"/> and returns it, so calls chain.</summary>
    public Tensor Add(string name, Tensor feature)
    {
        if (Keeps(name)) _features.Add(name, feature);
        return feature;
    }

    /// <summary>Records stage <paramref name="index"/>'s pre-activation and its ReLU; returns the activated output.</summary>
    public Tensor AddStage(int index, Tensor preActivation) =>
        // Not in place: the pre-activation is a feature of its own (unless nobody reads it).
        Keeps(FeatureNames.StagePreActivation(index))
            ? AddStage(index, preActivation, nn.functional.relu(preActivation))
            : Add(FeatureNames.Stage(index), nn.functional.relu(preActivation, inplace: true));

    /// <summary>
    /// Records a stage whose output the network has already computed: usually the ReLU of its pre-activation, but
    /// a family may define it otherwise (a Wide ResNet's raw block output, a ShuffleNetV2's shuffled channels).
    /// The two must be distinct tensors (<c>alias()</c> one if they hold the same values), since each moves out once.
    /// </summary>
    public Tensor AddStage(int index, Tensor preActivation, Tensor output)
    {
        Add(FeatureNames.StagePreActivation(index), preActivation);
        return Add(FeatureNames.Stage(index), output);
    }

    /// <summary>Moves every feature to the caller's dispose scope: the output of a pass that stopped when <see cref="Complete"/>.</summary>
    public ModelOutput Finish()
    {
        foreach (var feature in _features.Values) feature.MoveToOuterDisposeScope();
        return ModelOutput.WithoutLogits(_features);
    }

    /// <summary>Moves the logits and every feature to the caller's dispose scope and wraps them up.</summary>
    public ModelOutput Finish(Tensor logits)
    {
        foreach (var feature in _features.Values) feature.MoveToOuterDisposeScope();
        return new ModelOutput(logits.MoveToOuterDisposeScope(), _features);
    }
}
