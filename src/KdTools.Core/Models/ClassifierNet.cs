using KdTools.Core.Export;
using KdTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Base of every architecture: an image classifier whose <see cref="Run"/> returns logits plus named features.
/// <c>forward</c> returns logits only, so the module still composes like any TorchSharp module.
/// Subclasses call <c>RegisterComponents()</c> last in their constructor and name fields like the PyTorch
/// reference attributes (conv1, bn1, layer1, fc), so state-dict keys map one-to-one.
/// </summary>
public abstract class ClassifierNet : nn.Module<Tensor, Tensor>
{
    protected ClassifierNet(string name, int numClasses, int stageCount) : base(name)
    {
        NumClasses = numClasses;
        StageCount = stageCount;
    }

    /// <summary>Registry name, for example <c>resnet56</c>.</summary>
    public string Architecture => GetName();

    public int NumClasses { get; }

    /// <summary>What the logits describe: one class per image here, one per pixel in a <see cref="SegmentationNet"/>.</summary>
    public virtual PredictionTask Task => PredictionTask.Classification;

    /// <summary>Number of stages, i.e. features <c>stage1..stageN</c>; the natural positions for intermediate heads.</summary>
    public int StageCount { get; }

    /// <summary>
    /// The normalisation of the inputs the network was trained with; null while it is untrained and unknown. The
    /// engine feeds each network inputs normalised with its own statistics (a teacher's may differ from the dataset's),
    /// and checkpoints save and restore it as metadata, outside the state dict, so PyTorch keys stay clean.
    /// </summary>
    public virtual InputNormalization? Normalization { get; set; }

    /// <summary>
    /// The size of the images the network was last trained on; null while unknown (untrained, or imported from a
    /// plain state dict). Checkpoints record it as metadata; a run or measurement on images of another size warns.
    /// </summary>
    public virtual ImageSize? InputSize { get; set; }

    /// <summary>Channels of the input images: what the first convolution takes (3 for every built-in architecture).</summary>
    public virtual int InputChannels => (int)modules().OfType<TorchSharp.Modules.Conv2d>().First().weight!.shape[1];

    /// <summary>
    /// Whether <see cref="Run"/> records its features through one <see cref="FeatureCollector"/> made before any child
    /// module runs, so that a <see cref="FeatureRequest"/> pass can keep only the features its reader names.
    /// </summary>
    internal virtual bool SelectsFeatures => false;

    /// <summary>Logits and features in one pass. Call child modules with <c>.call()</c> so hooks still fire.</summary>
    public abstract ModelOutput Run(Tensor input);

    public override Tensor forward(Tensor input) => Run(input).Logits;

    /// <summary>
    /// The affine parameters (γ, β) of the BatchNorm that produces stage <paramref name="stage"/>'s pre-activation
    /// (<c>stageN_preact</c>, before any residual sum is added), for methods that derive margins from them (OFD);
    /// null when the architecture has no such BatchNorm. The tensors are the live parameters: read, never modify.
    /// </summary>
    public virtual (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage) => null;

    /// <summary>Number of trainable scalars (what the reference tables count).</summary>
    public virtual long ParameterCount() => parameters().Sum(p => p.numel());
}
