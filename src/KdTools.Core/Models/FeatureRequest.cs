using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// A forward pass that keeps only the features its reader names (a teacher whose method reads its logits alone, an
/// evaluation): the network's <see cref="FeatureCollector"/> records nothing else, and a stage output nobody reads
/// is activated in place instead of beside its pre-activation. Architectures opt in
/// (<see cref="ClassifierNet.SelectsFeatures"/>); any other network runs its full pass. The values computed are the
/// same; only what is kept differs.
/// </summary>
internal static class FeatureRequest
{
    /// <summary>The names the next <see cref="FeatureCollector"/> made on this thread keeps; null: all of them.</summary>
    [ThreadStatic] private static IReadOnlyCollection<string>? t_wanted;

    /// <summary>Takes the pending request (the outermost network's collector does), so nested passes keep everything.</summary>
    internal static IReadOnlyCollection<string>? Take()
    {
        var wanted = t_wanted;
        t_wanted = null;
        return wanted;
    }

    /// <summary>
    /// <paramref name="network"/>'s outputs on <paramref name="input"/> with only the features in <paramref name="wanted"/>
    /// (null: all, as <see cref="ClassifierNet.Run"/>), gradients off. A pass that keeps no feature runs in inference
    /// mode (no autograd bookkeeping at all) and hands out a normal copy of the logits, which any loss may save for backward.
    /// </summary>
    public static ModelOutput RunFrozen(ClassifierNet network, Tensor input, IReadOnlyCollection<string>? wanted)
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
                t_wanted = wanted;
                try { output = network.Run(input); }
                finally { t_wanted = null; }
            }
            // Outside inference mode, so that the copy is an ordinary tensor.
            using var logits = output.Logits;
            return new ModelOutput(logits.clone(), new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>(output.Exits));
        }
        using (var noGrad = no_grad())
        {
            t_wanted = wanted;
            try { return network.Run(input); }
            finally { t_wanted = null; }
        }
    }
}
