using KdTools.Core.Export;
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// DIH's intermediate heads: one linear classifier over the flattened output of each chosen stage
/// (exits named <c>head{stage}</c>). The input width depends on the image size, so it is part of the configuration.
/// </summary>
[Registered]
internal sealed class LinearStageHeads : ExitHeads, IOnnxExportableExits
{
    public const string KindName = "linear-stage";

    private readonly ModuleList<Linear> heads;
    private readonly int[] _stages;
    private readonly long[] _inputs;

    /// <param name="stages">1-based stage indices, shallow to deep.</param>
    /// <param name="inputFeatures">Flattened C·H·W of each stage's output.</param>
    public LinearStageHeads(int[] stages, long[] inputFeatures, int classes) : base(nameof(LinearStageHeads))
    {
        if (stages.Length == 0 || stages.Length != inputFeatures.Length)
            throw new ArgumentException("one input width per stage is needed");
        if (classes <= 0 || inputFeatures.Any(n => n <= 0))
            throw new ArgumentException($"input widths and the class count must be positive, got inputs {string.Join(",", inputFeatures)} and {classes} classes");
        _stages = stages;
        _inputs = inputFeatures;
        Classes = classes;
        heads = new ModuleList<Linear>(inputFeatures.Select(n => nn.Linear(n, classes)).ToArray());
        RegisterComponents();
    }

    public int Classes { get; }
    public IReadOnlyList<int> Stages => _stages;

    public override IReadOnlyList<string> ExitNames => _stages.Select(s => $"head{s}").ToList();
    public override string Kind => KindName;

    public override string Configuration => string.Join(";",
        $"stages={string.Join(",", _stages)}", $"inputs={string.Join(",", _inputs)}", $"classes={Classes}");

    public override Dictionary<string, Tensor> Compute(ModelOutput backbone)
    {
        var exits = new Dictionary<string, Tensor>();
        for (int i = 0; i < _stages.Length; i++)
            exits[$"head{_stages[i]}"] = heads[i].call(backbone.Feature(FeatureNames.Stage(_stages[i])).flatten(1));
        return exits;
    }

    IReadOnlyDictionary<string, OnnxValue> IOnnxExportableExits.ExportOnnx(OnnxGraph graph) =>
        _stages.Select((stage, i) => (stage, i))
            .ToDictionary(h => $"head{h.stage}", h => graph.Linear(graph.Feature(FeatureNames.Stage(h.stage)), heads[h.i]));

    /// <summary>Heads for the given stages of <paramref name="backbone"/>, sized by a probe pass on one image.</summary>
    public static LinearStageHeads For(ClassifierNet backbone, int[] stages, int channels, int height, int width)
    {
        var unknown = stages.Where(s => s < 1 || s > backbone.StageCount).ToList();
        if (unknown.Count > 0)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"{backbone.Architecture} has stages 1..{backbone.StageCount}; there is no stage {string.Join(", ", unknown)}", unknown[0]);
        long[] inputs;
        bool wasTraining = backbone.training;
        backbone.eval();
        using (var scope = torch.NewDisposeScope())
        using (var noGrad = torch.no_grad())
        {
            var probe = backbone.Run(torch.zeros(1, channels, height, width, device: backbone.parameters().First().device));
            inputs = stages.Select(s => probe.Feature(FeatureNames.Stage(s))[0].numel()).ToArray();
        }
        backbone.train(wasTraining);
        return new LinearStageHeads(stages, inputs, backbone.NumClasses);
    }

    internal static LinearStageHeads FromConfiguration(ClassifierNet backbone, string configuration)
    {
        var (stages, inputs, classes) = Parse(configuration);
        return new LinearStageHeads(stages, inputs, classes);
    }

    /// <summary>
    /// How many values the heads of <paramref name="configuration"/> hold (a weight and a bias per head), computed without
    /// building them; saturates at <see cref="long.MaxValue"/>. Zero when a size is not positive (the constructor refuses it).
    /// </summary>
    internal static long StateElements(string configuration)
    {
        var (_, inputs, classes) = Parse(configuration);
        if (classes <= 0 || inputs.Any(n => n <= 0)) return 0;
        Int128 total = 0;
        foreach (var n in inputs)
        {
            total += (Int128)n * classes + classes;
            if (total > long.MaxValue) return long.MaxValue;
        }
        return (long)total;
    }

    private static (int[] Stages, long[] Inputs, int Classes) Parse(string configuration)
    {
        var parts = configuration.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        return (parts["stages"].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
            parts["inputs"].Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
            int.Parse(parts["classes"], CultureInfo.InvariantCulture));
    }
}
