using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// A forward pass that keeps only the features its reader names (a teacher whose method reads its logits alone, an
/// evaluation): the network's <see cref="FeatureCollector"/> records nothing else, and a stage output nobody reads
/// is activated in place instead of beside its pre-activation. When the reader does not read the logits either (a
/// teacher whose method compares stage features only: AT, FitNet, SP), the pass stops as soon as it holds the last
/// feature named, without the later stages, the pooling and the classifier. Architectures opt in
/// (<see cref="ClassifierNet.SelectsFeatures"/>); any other network runs its full pass. The values computed are the
/// same; only what is kept, and where the pass ends, differ.
/// </summary>
internal static class FeatureRequest
{
    /// <summary>What a pass is asked for: these features, and the logits or not.</summary>
    internal sealed record Wanted(IReadOnlyCollection<string> Features, bool Logits);

    /// <summary>What the next <see cref="FeatureCollector"/> made on this thread keeps; null: all of it.</summary>
    [ThreadStatic] private static Wanted? t_wanted;

    /// <summary>Takes the pending request (the outermost network's collector does), so nested passes keep everything.</summary>
    internal static Wanted? Take()
    {
        var wanted = t_wanted;
        t_wanted = null;
        return wanted;
    }

    /// <summary>
    /// <paramref name="network"/>'s outputs on <paramref name="input"/> with only the features in <paramref name="wanted"/>
    /// (null: all, as <see cref="ClassifierNet.Run"/>), gradients off. A pass that keeps no feature runs in inference
    /// mode (no autograd bookkeeping at all) and hands out a normal copy of the logits, which any loss may save for backward.
    /// Without <paramref name="logits"/> (and with <paramref name="wanted"/> named) a network that selects features stops
    /// after the last of them and its output has no logits (<see cref="ModelOutput.HasLogits"/>).
    /// </summary>
    public static ModelOutput RunFrozen(ClassifierNet network, Tensor input, IReadOnlyCollection<string>? wanted, bool logits = true)
    {
        if (wanted is null || !network.SelectsFeatures)
        {
            using var noGrad = no_grad();
            return network.Run(input);
        }
        if (wanted.Count == 0)
        {
            ModelOutput output;
            using (var inference = inference_mode())
            {
                t_wanted = new Wanted(wanted, Logits: true);
                try { output = network.Run(input); }
                finally { t_wanted = null; }
            }
            // Outside inference mode, so that the copy is an ordinary tensor.
            using var inferenceLogits = output.Logits;
            return new ModelOutput(inferenceLogits.clone(), new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>(output.Exits));
        }
        using (var noGrad = no_grad())
        {
            t_wanted = new Wanted(wanted, logits);
            try { return network.Run(input); }
            finally { t_wanted = null; }
        }
    }
}
