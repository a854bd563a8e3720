using KdTools.Core.Export;
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// BYOT's shallow classifiers (Zhang et al., "Be Your Own Teacher"): after each stage but the last, an attention mask
/// (SepConv, BN, ReLU, ×2 bilinear upsampling, sigmoid) reweights the stage output, a stack of SepConvs brings it to
/// the deepest stage's channels and resolution, and a linear classifier reads the pooled vector.
/// Module names follow the official code (attention1, scala1, fc1, ...). The official pools with AvgPool2d(4, 4),
/// which is a global pool only for 32×32 inputs; a 1×1 adaptive pool gives the same there and works for any size.
/// </summary>
[Registered]
internal sealed class ByotBranches : ExitHeads, IOnnxExportableExits
{
    public const string KindName = "byot";

    private readonly int[] _channels;

    /// <param name="stageChannels">Output channels of every backbone stage, shallow to deep (at least two stages).</param>
    public ByotBranches(int[] stageChannels, int classes) : base(nameof(ByotBranches))
    {
        if (stageChannels.Length < 2) throw new ArgumentException("BYOT needs a backbone with at least two stages");
        if (classes <= 0 || stageChannels.Any(c => c <= 0))
            throw new ArgumentException($"channels and the class count must be positive, got channels {string.Join(",", stageChannels)} and {classes} classes");
        _channels = stageChannels;
        Classes = classes;
        int deepest = stageChannels[^1];
        for (int i = 1; i < stageChannels.Length; i++)
        {
            int c = stageChannels[i - 1];
            register_module($"attention{i}", nn.Sequential(
                SepConv(c, c), nn.BatchNorm2d(c), nn.ReLU(),
                nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Bilinear, align_corners: false), nn.Sigmoid()));
            var stack = Enumerable.Range(i - 1, stageChannels.Length - i)
                .Select(j => (nn.Module<Tensor, Tensor>)SepConv(stageChannels[j], stageChannels[j + 1]))
                .Append(nn.AdaptiveAvgPool2d(1));
            register_module($"scala{i}", nn.Sequential(stack));
            register_module($"fc{i}", nn.Linear(deepest, classes));
        }
        foreach (var (_, module) in named_modules())
        {
            if (module is Conv2d conv) nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        }
    }

    public int Classes { get; }

    /// <summary>Number of shallow branches (stages − 1).</summary>
    public int Count => _channels.Length - 1;

    /// <summary>Width of every branch's pooled feature: the deepest stage's channels.</summary>
    public int FeatureWidth => _channels[^1];

    public override IReadOnlyList<string> ExitNames => Enumerable.Range(1, Count).Select(i => $"branch{i}").ToList();
    public override string Kind => KindName;
    public override string Configuration => $"channels={string.Join(",", _channels)};classes={Classes}";

    public override Dictionary<string, Tensor> Compute(ModelOutput backbone) =>
        ComputeWithFeatures(backbone).ToDictionary(b => b.Exit, b => b.Logits);

    /// <summary>Logits and pooled feature of every branch, shallow (branch1, after stage 1) to deep.</summary>
    public IReadOnlyList<(string Exit, Tensor Logits, Tensor Feature)> ComputeWithFeatures(ModelOutput backbone)
    {
        var results = new List<(string, Tensor, Tensor)>(Count);
        for (int i = 1; i <= Count; i++)
        {
            var stage = backbone.Feature(FeatureNames.Stage(i));
            var mask = Child($"attention{i}").call(stage);
            var feature = Child($"scala{i}").call(mask * stage).flatten(1);
            results.Add(($"branch{i}", Child($"fc{i}").call(feature), feature));
        }
        return results;
    }

    IReadOnlyDictionary<string, OnnxValue> IOnnxExportableExits.ExportOnnx(OnnxGraph graph)
    {
        var exits = new Dictionary<string, OnnxValue>();
        for (int i = 1; i <= Count; i++)
        {
            var stage = graph.Feature(FeatureNames.Stage(i));
            var mask = graph.Module(Child($"attention{i}"), stage);
            var feature = graph.Flatten(graph.Module(Child($"scala{i}"), graph.Mul(mask, stage)));
            exits[$"branch{i}"] = graph.Module(Child($"fc{i}"), feature);
        }
        return exits;
    }

    private nn.Module<Tensor, Tensor> Child(string name) => (nn.Module<Tensor, Tensor>)named_children().First(c => c.name == name).module;

    /// <summary>Depthwise 3×3 stride 2, pointwise, BN, ReLU, depthwise 3×3, pointwise to <paramref name="outputs"/>, BN, ReLU.</summary>
    private static Sequential SepConv(int inputs, int outputs) => nn.Sequential(
        ("0", nn.Conv2d(inputs, inputs, 3, stride: 2, padding: 1, groups: inputs, bias: false)),
        ("1", nn.Conv2d(inputs, inputs, 1, bias: false)),
        ("2", nn.BatchNorm2d(inputs)),
        ("3", nn.ReLU()),
        ("4", nn.Conv2d(inputs, inputs, 3, stride: 1, padding: 1, groups: inputs, bias: false)),
        ("5", nn.Conv2d(inputs, outputs, 1, bias: false)),
        ("6", nn.BatchNorm2d(outputs)),
        ("7", nn.ReLU()));

    internal static ByotBranches FromConfiguration(ClassifierNet backbone, string configuration)
    {
        var (channels, classes) = Parse(configuration);
        return new ByotBranches(channels, classes);
    }

    /// <summary>
    /// How many values the branches of <paramref name="configuration"/> hold (parameters and BatchNorm statistics, without
    /// <c>num_batches_tracked</c>), computed without building them; saturates at <see cref="long.MaxValue"/>. Zero when a
    /// size is not positive (the constructor refuses it).
    /// </summary>
    internal static long StateElements(string configuration)
    {
        var (channels, classes) = Parse(configuration);
        if (channels.Length < 2 || classes <= 0 || channels.Any(c => c <= 0)) return 0;
        // SepConv(in, out): two depthwise 3x3 (9·in each), 1x1 in→in, 1x1 in→out, BatchNorm(in) and BatchNorm(out) (4 each).
        static Int128 SepConv(Int128 inputs, Int128 outputs) => 22 * inputs + inputs * inputs + inputs * outputs + 4 * outputs;
        Int128 total = 0, deepest = channels[^1];
        for (int i = 1; i < channels.Length; i++)
        {
            total += SepConv(channels[i - 1], channels[i - 1]) + 4 * (Int128)channels[i - 1]; // attention: SepConv, BatchNorm
            for (int j = i - 1; j < channels.Length - 1; j++) total += SepConv(channels[j], channels[j + 1]); // scala
            total += deepest * classes + classes; // fc
            if (total > long.MaxValue) return long.MaxValue;
        }
        return (long)total;
    }

    private static (int[] Channels, int Classes) Parse(string configuration)
    {
        var parts = configuration.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        return (parts["channels"].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray(),
            int.Parse(parts["classes"], CultureInfo.InvariantCulture));
    }
}
