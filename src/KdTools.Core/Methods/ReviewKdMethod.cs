using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>
/// ReviewKD's options: mdistiller's CIFAR-100 setting (<c>configs/cifar100/reviewkd.yaml</c>: weight 5 over
/// <c>CFG.REVIEWKD</c>'s generic 1, which its ImageNet configs keep) and the authors' per-pair weights as presets.
/// </summary>
internal sealed class ReviewKdOptions : FeatureMethodOptions
{
    private const string Script = "dvlab-research/ReviewKD CIFAR-100/script/reviewKD.sh --kd-loss-weight";

    private static readonly MethodPreset[] ReferencePresets =
    [
        MethodPreset.Of("resnet32x4-resnet8x4", Script + " 5.0", (nameof(Beta), 5.0)),
        MethodPreset.Of("resnet32x4-ShuffleV1", Script + " 5.0", (nameof(Beta), 5.0)),
        MethodPreset.Of("resnet32x4-ShuffleV2", Script + " 8.0", (nameof(Beta), 8.0)),
        MethodPreset.Of("wrn_40_2-wrn_16_2", Script + " 5.0", (nameof(Beta), 5.0)),
        MethodPreset.Of("wrn_40_2-wrn_40_1", Script + " 5.0", (nameof(Beta), 5.0)),
        MethodPreset.Of("wrn_40_2-ShuffleV1", Script + " 5.0", (nameof(Beta), 5.0)),
        MethodPreset.Of("resnet56-resnet20", Script + " 0.6", (nameof(Beta), 0.6)),
        MethodPreset.Of("resnet110-resnet32", Script + " 1.0", (nameof(Beta), 1.0)),
    ];

    /// <summary>
    /// β = 5: the weight of mdistiller's one CIFAR-100 config and of 5 of the authors' 8 CIFAR pairs; the Default recipe
    /// trains CIFAR-sized images. <c>cfg.py</c>'s 1.0 is what its ImageNet configs use.
    /// </summary>
    public ReviewKdOptions() => Beta = 5;

    public override IReadOnlyList<MethodPreset> Presets => ReferencePresets;

    [Description(EpochWarmup.Description + " mdistiller: REVIEWKD.WARMUP_EPOCHS 20.")]
    public double WarmupEpochs { get; set; } = 20;

    [Description(EpochWarmup.PerStepDescription)]
    public bool? WarmupPerStep { get; set; }

    protected override void ApplyQuickRunDefaults(IReadOnlySet<string> given) => WarmupPerStep ??= true;

    [Description("Upper bound of the fusion modules' middle width, min(this, the student's embedding width) (mdistiller hard-codes 512 and leaves its REVIEWKD.MAX_MID_CHANNEL unused).")]
    public int MaxMidChannels { get; set; } = 512;

    public override void Validate()
    {
        base.Validate();
        Require(WarmupEpochs >= 0, nameof(WarmupEpochs), "must be ≥ 0", WarmupEpochs);
        Require(MaxMidChannels >= 1, nameof(MaxMidChannels), "must be ≥ 1", MaxMidChannels);
    }
}

/// <summary>
/// ReviewKD (Chen et al., CVPR 2021), knowledge review: the student's features, deepest first (the pooled embedding,
/// then stage N … stage 1), pass through attention-based fusion modules that merge each level with what the deeper
/// levels learned; each fused map is compared with the teacher's same-level pre-ReLU feature (and its embedding) by
/// the hierarchical context loss. loss = CE + warm-up·β·HCL, as mdistiller's ReviewKD distiller.
/// </summary>
[DistillationMethod("ReviewKD", "Knowledge review: attention-based fusion of student features deep to shallow, hierarchical context loss against every teacher stage.",
    Paper = "Chen, Liu, Zhao, Jia. Distilling Knowledge via Knowledge Review. CVPR 2021")]
internal sealed class ReviewKdMethod(ReviewKdOptions options) : FeatureDistillationMethod<ReviewKdOptions>(options)
{
    private int[] _stages = [];
    private ModuleList<AttentionFusion>? _fusions;

    public override void Initialize(MethodSetup setup)
    {
        _stages = StageFeatures.Pairs(setup, Name);
        var deepToShallow = _stages.Reverse().ToArray();
        long midChannels = Math.Min(Options.MaxMidChannels, setup.Student(FeatureNames.Embedding)[1]);
        var levels = new List<AttentionFusion>
        {
            new(setup.Student(FeatureNames.Embedding)[1], midChannels, setup.Teacher(FeatureNames.Embedding)[1], [1, 1], fuse: false),
        };
        foreach (int stage in deepToShallow)
        {
            var teacher = setup.Teacher(FeatureNames.StagePreActivation(stage));
            levels.Add(new AttentionFusion(setup.Student(FeatureNames.Stage(stage))[1], midChannels, teacher[1], [teacher[2], teacher[3]], fuse: true));
        }
        _fusions = new ModuleList<AttentionFusion>(levels.ToArray());
        Extras = _fusions;
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        var student = step.Student;
        // Shallow to deep, as the teacher's features: stage 1 … stage N, then the embedding as a 1×1 map.
        var fused = new List<Tensor>();
        var (output, residual) = _fusions![0].call(AsMap(student.Feature(FeatureNames.Embedding)), null);
        fused.Add(output);
        var deepToShallow = _stages.Reverse().ToArray();
        for (int i = 0; i < deepToShallow.Length; i++)
        {
            (output, residual) = _fusions[i + 1].call(student.Feature(FeatureNames.Stage(deepToShallow[i])), residual);
            fused.Insert(0, output);
        }
        var targets = StageFeatures.Collect(teacher, _stages, FeatureNames.StagePreActivation);
        targets.Add(AsMap(teacher.Feature(FeatureNames.Embedding)));
        double warmup = EpochWarmup.Factor(step, Options.WarmupEpochs, Options.WarmupPerStep ?? false);
        terms.Add("reviewkd", warmup * Options.Beta * HierarchicalContextLoss.Compute(fused, targets));
    }

    private static Tensor AsMap(Tensor embedding) => embedding.view(embedding.shape[0], embedding.shape[1], 1, 1);
}
