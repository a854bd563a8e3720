using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// What one forward pass gives a distillation method: the logits and the named intermediate features.
/// Methods ask for features by name (see <see cref="FeatureNames"/>) and never reach into a model's fields.
/// </summary>
public sealed class ModelOutput
{
    private readonly Dictionary<string, Tensor> _features;
    private readonly Tensor? _logits;

    public ModelOutput(Tensor logits, Dictionary<string, Tensor> features, Dictionary<string, Tensor>? exits = null)
        : this(features, exits) => _logits = logits;

    private ModelOutput(Dictionary<string, Tensor> features, Dictionary<string, Tensor>? exits)
    {
        _features = features;
        Exits = exits ?? new Dictionary<string, Tensor>();
    }

    /// <summary>
    /// The output of a pass that stopped once it had every feature its reader asked for (<see cref="FeatureRequest"/>
    /// with the logits not read): no logits, no exits.
    /// </summary>
    internal static ModelOutput WithoutLogits(Dictionary<string, Tensor> features) => new(features, null);

    /// <summary>Final classifier logits, [B, classes]; a segmentation network's are [B, classes, H/8, W/8].</summary>
    public Tensor Logits => _logits ?? throw new InvalidOperationException(
        "this forward pass stopped after the last feature its reader asked for and computed no logits: a method that reads " +
        "the teacher's logits must say so (DistillationMethod.ReadsTeacherLogits)");

    /// <summary>False for a pass that stopped before the classifier (<see cref="WithoutLogits"/>).</summary>
    public bool HasLogits => _logits is not null;

    /// <summary>Named features: see <see cref="FeatureNames"/> for the conventions.</summary>
    public IReadOnlyDictionary<string, Tensor> Features => _features;

    /// <summary>Logits of extra exits (intermediate heads, self-distillation branches), keyed by exit name.</summary>
    public IReadOnlyDictionary<string, Tensor> Exits { get; }

    /// <summary>The feature called <paramref name="name"/>; a clear error listing what exists when it is absent.</summary>
    public Tensor Feature(string name)
    {
        if (_features.TryGetValue(name, out var t)) return t;
        throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
            $"the model has no feature '{name}'; it has: {string.Join(", ", _features.Keys)}", name);
    }
}

/// <summary>Feature-name conventions every architecture follows, so methods work across families.</summary>
internal static class FeatureNames
{
    /// <summary>Output of the stem (first conv-BN-ReLU), [B, C, H, W].</summary>
    public const string Stem = "stem";

    /// <summary>Pooled, flattened input of the final classifier, [B, D] (the penultimate embedding).</summary>
    public const string Embedding = "embedding";

    /// <summary>
    /// Output of stage <paramref name="index"/> (1-based), [B, C, H, W], as the reference's <c>feat[index]</c>: the
    /// post-activation output in most families; a Wide ResNet's raw residual sum, MobileNetV2's linear block output.
    /// </summary>
    public static string Stage(int index) => $"stage{index}";

    /// <summary>
    /// The same stage before its ReLU, as the reference's <c>preact=True</c> feature (what AB and OFD need); see each
    /// architecture for how it relates to <see cref="Stage"/>.
    /// </summary>
    public static string StagePreActivation(int index) => $"stage{index}_preact";

    /// <summary>
    /// A segmentation network's final feature map, the input of its 1x1 pixel classifier, [B, C, H/8, W/8] (what SKD's
    /// pair-wise term compares). Segmentation networks have no <see cref="Embedding"/>.
    /// </summary>
    public const string FinalMap = "final_map";
}
