using TorchSharp;

namespace KdTools.Core.Models;

/// <summary>One registered architecture: its name, family, what it is, and how to build it.</summary>
/// <param name="Name">Registry key, spelt as RepDistiller spells it (<c>resnet56</c>, <c>MobileNetV2</c>); lookups ignore case.</param>
/// <param name="Family">Family label for listings (<c>cifar-resnet</c>, <c>wrn</c>, <c>vgg</c>, <c>shufflenetv1</c>, ...).</param>
/// <param name="Description">One line for <c>Get-KdArchitecture</c>.</param>
/// <param name="HeadPositions">Natural intermediate-head positions (DIH: 3 for CIFAR ResNets, 4 for ResNet-18).</param>
/// <param name="Create">Builds the network for a class count. Call outside any dispose scope.</param>
public sealed record ArchitectureInfo(
    string Name, string Family, string Description, int HeadPositions, Func<int, ClassifierNet> Create)
{
    /// <summary>A lightweight network (MobileNet, ShuffleNet) that the reference recipes train at a lower learning rate (0.01).</summary>
    public bool Lightweight { get; init; }

    /// <summary>The task the network's logits serve; a run's dataset must be of the same task.</summary>
    public PredictionTask Task { get; init; } = PredictionTask.Classification;
}

/// <summary>
/// Architectures by name, discovered from the [Registered] families (each declares a static <c>Architectures()</c>).
/// Lookups are case-insensitive; an unknown name fails suggesting the closest and listing the known ones.
/// </summary>
public static class ArchitectureRegistry
{
    private static readonly Registry<ArchitectureInfo> Entries = new("architecture", KdErrorIds.ArchitectureUnknown, a => a.Name, FamilyEntries,
        entries => entries.OrderBy(a => a.Family).ThenBy(a => a.Name, NaturalNameComparer.Instance));

    private static IEnumerable<ArchitectureInfo> FamilyEntries(Type type) =>
        type.GetMethod("Architectures", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
            is { } family && family.ReturnType == typeof(IEnumerable<ArchitectureInfo>)
            ? (IEnumerable<ArchitectureInfo>)family.Invoke(null, null)!
            : [];

    public static IReadOnlyList<ArchitectureInfo> All => Entries.All;

    public static void Register(ArchitectureInfo info) => Entries.Register(info);

    public static bool Contains(string name) => Entries.Contains(name);

    public static ArchitectureInfo Get(string name) => Entries.Get(name);

    /// <summary>
    /// Builds <paramref name="name"/> for <paramref name="numClasses"/> classes, for weights that are loaded or copied
    /// next (its initial values come from libtorch's global generator, unseeded).
    /// </summary>
    public static ClassifierNet Create(string name, int numClasses)
    {
        var info = Get(name);
        RequireClasses(numClasses);
        return GlobalGenerator.Exclusive(() => info.Create(numClasses));
    }

    /// <summary>
    /// Builds <paramref name="name"/> with its initial weights drawn from <paramref name="seed"/>: the same seed gives
    /// the same weights, also while other threads build or train networks.
    /// </summary>
    public static ClassifierNet Create(string name, int numClasses, long seed)
    {
        var info = Get(name);
        RequireClasses(numClasses);
        return GlobalGenerator.Seeded(seed, () => info.Create(numClasses));
    }

    /// <summary>
    /// A new network of the same architecture with a copy of <paramref name="source"/>'s weights, BN statistics and
    /// normalisation, in the source's floating-point type (a float64 network's copy carries its weights unrounded).
    /// </summary>
    public static ClassifierNet Clone(ClassifierNet source)
    {
        if (source is MultiExitNet multi)
        {
            var backbone = Clone(multi.Backbone);
            var heads = ExitHeadsRegistry.Create(multi.Heads.Kind, backbone, multi.Heads.Configuration);
            CopyState(multi.Heads, heads);
            return new MultiExitNet(backbone, heads);
        }
        var copy = Create(source.Architecture, source.NumClasses);
        if (source.parameters().FirstOrDefault() is { } parameter && parameter.dtype != torch.ScalarType.Float32) copy.to(parameter.dtype);
        CopyState(source, copy);
        copy.Normalization = source.Normalization;
        copy.InputSize = source.InputSize;
        return copy;
    }

    private static void CopyState(TorchSharp.torch.nn.Module source, TorchSharp.torch.nn.Module target)
    {
        using var noGrad = TorchSharp.torch.no_grad();
        var targetState = target.state_dict();
        foreach (var (key, value) in source.state_dict()) targetState[key].copy_(value);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Base, long PerClass)> StateSizes =
        new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// How many values the state dict of <paramref name="name"/> built for <paramref name="numClasses"/> classes holds
    /// (parameters and buffers, BatchNorm's <c>num_batches_tracked</c> counters left out as a PyTorch file may omit them),
    /// without building it for that class count: a network's state grows linearly with its class count (the classifier),
    /// so two builds for 2 and 3 classes, once per architecture, give it. A loader compares it with the values a file
    /// holds before building, so a class count edited to a billion is refused instead of allocated.
    /// </summary>
    public static long StateElements(string name, int numClasses)
    {
        var info = Get(name);
        RequireClasses(numClasses);
        var (baseCount, perClass) = StateSizes.GetOrAdd(info.Name, _ =>
        {
            long Count(int classes)
            {
                using var network = GlobalGenerator.Exclusive(() => info.Create(classes));
                return network.state_dict()
                    .Where(entry => !entry.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                    .Sum(entry => entry.Value.numel());
            }
            long two = Count(2), three = Count(3);
            return (two - 2 * (three - two), three - two);
        });
        return baseCount + perClass * numClasses;
    }

    private static void RequireClasses(int numClasses)
    {
        if (numClasses < 2)
            throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                $"a classifier needs at least 2 classes, got {numClasses}", numClasses);
    }
}

/// <summary>Orders resnet8 before resnet20 before resnet110.</summary>
internal sealed class NaturalNameComparer : IComparer<string>
{
    public static readonly NaturalNameComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null) return string.CompareOrdinal(x, y);
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsDigit(x[i]) && char.IsDigit(y[j]))
            {
                int si = i, sj = j;
                while (i < x.Length && char.IsDigit(x[i])) i++;
                while (j < y.Length && char.IsDigit(y[j])) j++;
                int c = long.Parse(x[si..i]).CompareTo(long.Parse(y[sj..j]));
                if (c != 0) return c;
            }
            else
            {
                int c = char.ToLowerInvariant(x[i]).CompareTo(char.ToLowerInvariant(y[j]));
                if (c != 0) return c;
                i++; j++;
            }
        }
        return (x.Length - i).CompareTo(y.Length - j);
    }
}
