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

    /// <summary>Records <paramref name="feature"/> under <paramref name="name"/> and returns it, so calls chain.</summary>
    public Tensor Add(string name, Tensor feature)
    {
        _features.Add(name, feature);
        return feature;
    }

    /// <summary>Records stage <paramref name="index"/>'s pre-activation and its ReLU; returns the activated output.</summary>
    public Tensor AddStage(int index, Tensor preActivation) =>
        // Not in place: the pre-activation is a feature of its own.
        AddStage(index, preActivation, nn.functional.relu(preActivation));

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

    /// <summary>Moves the logits and every feature to the caller's dispose scope and wraps them up.</summary>
    public ModelOutput Finish(Tensor logits)
    {
        foreach (var feature in _features.Values) feature.MoveToOuterDisposeScope();
        return new ModelOutput(logits.MoveToOuterDisposeScope(), _features);
    }
}
