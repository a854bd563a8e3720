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

    /// <summary>Records a stage whose activation the network has already computed.</summary>
    public Tensor AddStage(int index, Tensor preActivation, Tensor activation)
    {
        Add(FeatureNames.StagePreActivation(index), preActivation);
        return Add(FeatureNames.Stage(index), activation);
    }

    /// <summary>Moves the logits and every feature to the caller's dispose scope and wraps them up.</summary>
    public ModelOutput Finish(Tensor logits)
    {
        foreach (var feature in _features.Values) feature.MoveToOuterDisposeScope();
        return new ModelOutput(logits.MoveToOuterDisposeScope(), _features);
    }
}
