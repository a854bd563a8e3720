using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;

namespace KdTools.Core.Methods;

/// <summary>Where CRD's contrast rows come from (RepDistiller's <c>--mode</c>, and its uniform alias sampler).</summary>
internal enum CrdSampling
{
    /// <summary>The positive is the sample itself; negatives from other classes, without replacement while the other
    /// classes hold enough samples (RepDistiller's default for CIFAR, <c>mode='exact'</c>).</summary>
    Exact,

    /// <summary>The positive is a random sample of the same class; negatives as in <see cref="Exact"/> (<c>mode='relax'</c>).</summary>
    Relax,

    /// <summary>Negatives uniformly from the whole training set, same class included (RepDistiller's ContrastMemory
    /// without dataset-provided indices).</summary>
    Uniform,
}

internal sealed class CrdOptions : FeatureMethodOptions
{
    private static readonly MethodPreset[] ReferencePresets =
    [
        MethodPreset.Of("CRD+KD", "the CRD paper's CRD+KD rows; RepDistiller scripts/run_cifar_distill.sh: -a 1 -b 0.8",
            (nameof(KdWeight), 1.0), (nameof(Beta), 0.8)),
    ];

    public CrdOptions() => Beta = 0.8;

    public override IReadOnlyList<MethodPreset> Presets => ReferencePresets;

    [Description("Where the contrast rows come from: Exact (negatives from other classes, RepDistiller's CIFAR default --mode exact), Relax (positive: a random same-class sample) or Uniform (negatives from the whole set).")]
    public CrdSampling Sampling { get; set; } = CrdSampling.Exact;

    [Description("Width of the embedding heads.")]
    public int FeatureDim { get; set; } = 128;

    [Description("Negatives per positive (NCE k, RepDistiller --nce_k 16384), capped at the training-set size − 1; Exact and Relax draw with replacement for samples whose other classes hold fewer.")]
    public int Negatives { get; set; } = 16384;

    [Description("Temperature τ of the scores.")]
    public double NceTemperature { get; set; } = ContrastiveLoss.DefaultTemperature;

    [Description("Momentum of the memory-bank update.")]
    public double NceMomentum { get; set; } = ContrastiveLoss.DefaultMomentum;

    public override void Validate()
    {
        base.Validate();
        Require(FeatureDim >= 1, nameof(FeatureDim), "must be ≥ 1", FeatureDim);
        Require(Negatives >= 1, nameof(Negatives), "must be ≥ 1", Negatives);
        Require(NceTemperature > 0, nameof(NceTemperature), "must be > 0", NceTemperature);
        Require(NceMomentum is >= 0 and < 1, nameof(NceMomentum), "must be in [0, 1)", NceMomentum);
    }
}

/// <summary>
/// Contrastive representation distillation (Tian et al. 2020): embedding heads on both penultimate features, a
/// momentum memory bank of every training sample's embeddings, and a symmetric NCE loss that pulls a sample's student
/// and teacher embeddings together against k random negatives. The memory bank gathers [B, k+1, D] per side and step
/// (about 0.5 GB for k = 16384 at batch 64), as in the reference.
/// </summary>
[DistillationMethod("CRD", "Contrastive representation distillation: NCE between student and teacher embeddings with a memory bank.",
    Paper = "Tian, Krishnan, Isola. Contrastive Representation Distillation. ICLR 2020")]
internal sealed class CrdMethod(CrdOptions options) : FeatureDistillationMethod<CrdOptions>(options)
{
    public override IReadOnlyCollection<string> TeacherFeaturesRead => [FeatureNames.Embedding];

    private EmbeddingHead? _studentEmbed, _teacherEmbed;
    private ContrastMemory? _memory;
    private CrdContrastSampler? _sampler;

    public override void Initialize(MethodSetup setup)
    {
        long samples = setup.TrainingSamples;
        if (samples < 2)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument, "CRD needs at least two training samples for its memory bank");
        _sampler = new CrdContrastSampler(Options.Sampling, samples, Math.Min(Options.Negatives, samples - 1), setup.TrainingLabels);
        _studentEmbed = new EmbeddingHead(setup.Student(FeatureNames.Embedding)[1], Options.FeatureDim, normalize: true);
        _teacherEmbed = new EmbeddingHead(setup.Teacher(FeatureNames.Embedding)[1], Options.FeatureDim, normalize: true);
        _memory = new ContrastMemory(samples, Options.FeatureDim, setup.Random);
        Extras = torch.nn.ModuleDict<torch.nn.Module>(("embed_s", _studentEmbed), ("embed_t", _teacherEmbed), ("memory", _memory));
    }

    /// <summary>The embedding heads and, as mdistiller counts them, the memory bank's rows.</summary>
    public override long ExtraParameters => base.ExtraParameters + 2 * (_memory?.Samples ?? 0) * Options.FeatureDim;

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var memory = _memory!;
        long samples = memory.Samples;
        var indices = step.Indices;
        var studentEmbedding = _studentEmbed!.call(step.Student.Feature(FeatureNames.Embedding));
        var teacherEmbedding = _teacherEmbed!.call(step.RequireTeacher().Feature(FeatureNames.Embedding));

        // Column 0 is the positive, the rest the negatives (Options.Sampling says from where).
        var contrast = _sampler!.Draw(indices, step.Random);
        step.RecordDraw("contrast", contrast);
        // Each embedding is scored against the other side's memory.
        var studentScores = ContrastiveLoss.ExpScores(studentEmbedding, memory.Rows(1, contrast), Options.NceTemperature);
        var teacherScores = ContrastiveLoss.ExpScores(teacherEmbedding, memory.Rows(0, contrast), Options.NceTemperature);
        double studentZ = memory.Normalizer(0, () => ContrastiveLoss.EstimateNormalizer(studentScores, samples));
        double teacherZ = memory.Normalizer(1, () => ContrastiveLoss.EstimateNormalizer(teacherScores, samples));
        var loss = ContrastiveLoss.NceLoss(studentScores / studentZ, samples) + ContrastiveLoss.NceLoss(teacherScores / teacherZ, samples);
        terms.Add("crd", Options.Beta * loss);

        // The rows updated are the samples' own, whatever the positive column holds (Relax), as in the reference.
        var own = indices.unsqueeze(1);
        memory.Update(0, indices, ContrastiveLoss.UpdatedMemoryRows(memory.Rows(0, own).squeeze(1), studentEmbedding, Options.NceMomentum));
        memory.Update(1, indices, ContrastiveLoss.UpdatedMemoryRows(memory.Rows(1, own).squeeze(1), teacherEmbedding, Options.NceMomentum));
    }

    public override void Dispose()
    {
        _sampler?.Dispose();
        base.Dispose();
    }
}
