using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

internal sealed class ByotOptions : MethodOptions
{
    [Description("Temperature T of the deepest classifier's soft targets (no T² factor, as in the official code).")]
    public double Temperature { get; set; } = 3;

    [Description("Weight of each shallow branch's soft cross-entropy; its label cross-entropy gets 1 − this.")]
    public double LossCoefficient { get; set; } = 0.3;

    [Description("Weight of the L2 distance between an adapted branch feature and the deepest feature (branches 2 and deeper from the top).")]
    public double FeatureLossCoefficient { get; set; } = 0.03;

    public override void Validate()
    {
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
        Require(LossCoefficient is >= 0 and <= 1, nameof(LossCoefficient), "must be in [0, 1]", LossCoefficient);
        Require(FeatureLossCoefficient >= 0, nameof(FeatureLossCoefficient), "must be ≥ 0", FeatureLossCoefficient);
    }
}

/// <summary>
/// BYOT self-distillation: no teacher. Shallow branches (<see cref="ByotBranches"/>) after each stage learn from the
/// labels and from the network's own deepest classifier. The trained student keeps its branches as extra exits, so
/// Measure-Student reports every exit and their ensemble (the mean of the exits' logits, as the authors' test loop
/// computes it). The feature adaptation layers are created once and trained with the network, as in the authors' loop.
/// </summary>
[DistillationMethod("BYOT", "Be Your Own Teacher: self-distillation from the deepest classifier into shallow branches (no teacher).",
    NeedsTeacher = false, Paper = "Zhang et al. Be Your Own Teacher: Improve the Performance of CNNs via Self Distillation. ICCV 2019")]
internal sealed class ByotMethod(ByotOptions options) : DistillationMethod<ByotOptions>(options)
{
    private ByotModules? _modules;

    /// <summary>The deepest classifier's label loss is part of the BYOT objective.</summary>
    public override double TaskLossWeight => 0;

    public override ExitHeads? StudentExits => _modules?.Branches;

    public override void Initialize(MethodSetup setup)
    {
        var channels = new List<int>();
        for (int i = 1; setup.StudentFeatures.TryGetValue(FeatureNames.Stage(i), out var shape); i++) channels.Add((int)shape[1]);
        if (channels.Count < 2)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"BYOT needs a student with at least two stages (features stage1, stage2, …); it has: {string.Join(", ", setup.StudentFeatures.Keys)}");
        _modules = new ByotModules(new ByotBranches(channels.ToArray(), setup.Classes), setup.Student(FeatureNames.Embedding)[1]);
        Extras = _modules;
    }

    public override void AddLosses(StepContext step, LossTerms terms)
    {
        var modules = _modules ?? throw new InvalidOperationException("BYOT was not initialised");
        var branches = modules.Branches.ComputeWithFeatures(step.Student);
        // ByotLoss indexing: 0 = deepest (the network's own classifier), then the branches from deep to shallow.
        var deepToShallow = branches.Reverse().ToList();
        var logits = deepToShallow.Select(b => b.Logits).Prepend(step.Student.Logits).ToList();
        var adapted = deepToShallow.Select((b, k) => ByotLoss.HasFeatureTerm(k + 1) ? modules.Adapt(k + 1, b.Feature) : null)
            .Prepend(null).ToList();
        var parts = ByotLoss.Compute(logits, step.Student.Feature(FeatureNames.Embedding), adapted, step.Labels, new ByotLossOptions
        {
            Temperature = Options.Temperature,
            LossCoefficient = Options.LossCoefficient,
            FeatureLossCoefficient = Options.FeatureLossCoefficient,
        });
        terms.Add("ce", parts.DeepestCrossEntropy);
        terms.Add("soft_ce", Options.LossCoefficient * Sum(parts.Heads.Select(h => h.SoftCrossEntropy)), nameof(Options.LossCoefficient));
        terms.Add("branch_ce", (1 - Options.LossCoefficient) * Sum(parts.Heads.Select(h => h.CrossEntropy)));
        var distances = parts.Heads.Select(h => h.FeatureDistance).OfType<Tensor>().ToList();
        if (distances.Count > 0) terms.Add("feature", Options.FeatureLossCoefficient * Sum(distances), nameof(Options.FeatureLossCoefficient));
    }

    private static Tensor Sum(IEnumerable<Tensor> values) => torch.stack(values.ToList()).sum();

    /// <summary>The branches (kept by the trained model) and the feature adapters (training only).</summary>
    private sealed class ByotModules : nn.Module
    {
        private readonly ByotBranches branches;
        private readonly ModuleList<Linear> adapt;

        public ByotModules(ByotBranches branches, long deepestWidth) : base(nameof(ByotModules))
        {
            this.branches = branches;
            // adapt[k − 1] maps head k (1 = second-deepest) onto the deepest feature; head 1's exists but gets no loss, as in the reference.
            adapt = new ModuleList<Linear>(Enumerable.Range(0, branches.Count).Select(_ => nn.Linear(branches.FeatureWidth, deepestWidth)).ToArray());
            RegisterComponents();
        }

        public ByotBranches Branches => branches;

        public Tensor Adapt(int head, Tensor feature) => adapt[head - 1].call(feature);
    }
}
