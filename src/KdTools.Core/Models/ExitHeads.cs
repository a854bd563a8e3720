using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Extra classifiers computed from a backbone's named features (DIH's intermediate heads, BYOT's shallow branches).
/// Kept apart from the backbone so the backbone's state dict keeps its PyTorch key names.
/// </summary>
public abstract class ExitHeads : nn.Module
{
    protected ExitHeads(string name) : base(name)
    {
    }

    /// <summary>Names of the exits, in order from shallow to deep (for example <c>head1..head3</c>).</summary>
    public abstract IReadOnlyList<string> ExitNames { get; }

    /// <summary>Saved in checkpoint metadata so the same heads can be rebuilt on load (see <see cref="ExitHeadsRegistry"/>).</summary>
    public abstract string Kind { get; }

    /// <summary>Constructor arguments as text, for the checkpoint.</summary>
    public abstract string Configuration { get; }

    /// <summary>Logits of every exit for one batch.</summary>
    public abstract Dictionary<string, Tensor> Compute(ModelOutput backbone);
}

/// <summary>
/// A backbone plus exit heads. Run returns the backbone's logits and features, and the heads' logits as
/// <see cref="ModelOutput.Exits"/>. Which parts train is the caller's choice (heads only for DIH's fine-tuning).
/// </summary>
public sealed class MultiExitNet : ClassifierNet
{
    private readonly ClassifierNet backbone;
    private readonly ExitHeads heads;

    public MultiExitNet(ClassifierNet backbone, ExitHeads heads)
        : base(backbone.Architecture, backbone.NumClasses, backbone.StageCount)
    {
        this.backbone = backbone;
        this.heads = heads;
        RegisterComponents();
    }

    public ClassifierNet Backbone => backbone;
    public ExitHeads Heads => heads;

    /// <summary>The backbone's: the heads see the backbone's features, so they share its inputs.</summary>
    public override Data.InputNormalization? Normalization
    {
        get => backbone.Normalization;
        set => backbone.Normalization = value;
    }

    /// <summary>The backbone's.</summary>
    public override ImageSize? InputSize
    {
        get => backbone.InputSize;
        set => backbone.InputSize = value;
    }

    public override int InputChannels => backbone.InputChannels;

    public override ModelOutput Run(Tensor input)
    {
        var output = backbone.Run(input);
        var exits = heads.Compute(output);
        return new ModelOutput(output.Logits, output.Features.ToDictionary(f => f.Key, f => f.Value), exits);
    }

    public override (Tensor Weight, Tensor Bias)? PreActivationNorm(int stage) => backbone.PreActivationNorm(stage);

    public override PredictionTask Task => backbone.Task;
}

/// <summary>
/// A registered kind of exit heads: its checkpoint name, how to rebuild it from its configuration, and how many values
/// (parameters and statistics) the heads of a configuration hold, computed without building them (a loader compares it
/// with the file's values before building; null for a kind registered without it).
/// </summary>
public sealed record ExitHeadsKind(string Kind, Func<ClassifierNet, string, ExitHeads> FromConfiguration, Func<string, long>? StateElements = null);

/// <summary>
/// Rebuilds exit heads from a checkpoint's (kind, configuration) pair; the kinds are discovered from the [Registered]
/// <see cref="ExitHeads"/> classes (each declares its <c>KindName</c> and a static <c>FromConfiguration</c>).
/// </summary>
public static class ExitHeadsRegistry
{
    private static readonly Registry<ExitHeadsKind> Entries = new("exit heads kind", KdErrorIds.CheckpointMismatch, k => k.Kind, KindOf);

    private static IEnumerable<ExitHeadsKind> KindOf(Type type)
    {
        if (!typeof(ExitHeads).IsAssignableFrom(type)) yield break;
        var kind = (string)(type.GetField("KindName")?.GetValue(null)
            ?? throw new InvalidOperationException($"[Registered] {type.Name} must declare a KindName constant"));
        var factory = Registry<ExitHeadsKind>.StaticMethod(type, "FromConfiguration");
        var size = Registry<ExitHeadsKind>.StaticMethod(type, "StateElements");
        yield return new ExitHeadsKind(kind, factory.CreateDelegate<Func<ClassifierNet, string, ExitHeads>>(), size.CreateDelegate<Func<string, long>>());
    }

    /// <summary>Every kind, in registration order.</summary>
    public static IReadOnlyList<ExitHeadsKind> All => Entries.All;

    public static void Register(string kind, Func<ClassifierNet, string, ExitHeads> factory) => Entries.Register(new ExitHeadsKind(kind, factory));

    /// <summary>Builds heads of <paramref name="kind"/> for <paramref name="backbone"/>, for weights loaded or copied next.</summary>
    /// <param name="source">The checkpoint the kind and configuration were read from, if any (named in errors).</param>
    public static ExitHeads Create(string kind, ClassifierNet backbone, string configuration, string? source = null)
    {
        var factory = Find(kind, source).FromConfiguration;
        // Head constructors draw (overwritten) initial values from libtorch's global generator.
        return FromFile(kind, configuration, source, () => GlobalGenerator.Exclusive(() => factory(backbone, configuration)));
    }

    /// <summary>
    /// How many values heads of <paramref name="kind"/> built from <paramref name="configuration"/> hold, computed without
    /// building them (saturating at <see cref="long.MaxValue"/>; 0 for a configuration the constructor refuses, or a kind
    /// that cannot tell). A loader compares it with the values a file holds, so a configuration edited to a million
    /// channels is refused instead of allocated.
    /// </summary>
    public static long StateElements(string kind, string configuration, string? source = null)
    {
        var size = Find(kind, source).StateElements;
        return size is null ? 0 : FromFile(kind, configuration, source, () => size(configuration));
    }

    private static ExitHeadsKind Find(string kind, string? source)
    {
        // A kind comes from a file, not from a user's typing: the error is the checkpoint's, with the known kinds.
        if (!Entries.TryGet(kind, out var entry))
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidData,
                $"the checkpoint {(source is null ? "" : $"'{source}' ")}has exit heads of kind '{kind}', which this KdTools does not know; " +
                $"known: {string.Join(", ", Entries.All.Select(k => k.Kind))}", source ?? kind);
        return entry;
    }

    /// <summary>A configuration read from a checkpoint that does not parse, or that the heads refuse, is the file's error.</summary>
    private static T FromFile<T>(string kind, string configuration, string? source, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (source is not null && ex is FormatException or KeyNotFoundException or IndexOutOfRangeException
                                       or OverflowException or ArgumentException)
        {
            throw Checkpoints.CheckpointMetadata.Corrupt(source, Checkpoints.CheckpointMetadata.HeadsConfiguration, configuration,
                $"a configuration of {kind} heads", ex);
        }
    }
}
