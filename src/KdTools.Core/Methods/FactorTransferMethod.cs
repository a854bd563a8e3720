using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;

namespace KdTools.Core.Methods;

internal sealed class FactorTransferOptions : FeatureMethodOptions
{
    /// <summary>RepDistiller's variant, the default.</summary>
    public const string RepDistiller = "repdistiller";

    /// <summary>The authors' code (Jangho-Kim/Factor-Transfer-pytorch).</summary>
    public const string Official = "official";

    public FactorTransferOptions() => Beta = 200;

    [Description("Whose FT, modules and recipe together. 'repdistiller' (default): RepDistiller's translator (with BN) and " +
                 "paraphraser (without), its channel-pooled factor loss (P1, P2), β = 200 (-b 200), paraphraser pre-trained " +
                 "30 epochs at lr 0.01 on MSE. 'official': the authors' Factor-Transfer code: no BN in either module, L1 " +
                 "between whole L2-normalised factors, β = 500 (--beta 500), paraphraser pre-trained 5 epochs at lr 0.1 on L1. " +
                 "Beta, ParaphraserEpochs, ParaphraserLearningRate and Reconstruction take the variant's values unless given.")]
    public string Variant { get; set; } = RepDistiller;

    [Description("Factor channels as a fraction k of the teacher's last-stage channels (int(k·C) in RepDistiller, round(k·C) in the authors' code).")]
    public double Rate { get; set; } = 0.5;

    [Description("Epochs of the paraphraser's reconstruction pre-training on the teacher's last stage (repdistiller: 30, --init_epochs; official: 5, --epoch 5).")]
    public int ParaphraserEpochs { get; set; } = 30;

    [Description("Learning rate of the paraphraser pre-training (repdistiller: 0.01, its rate for CIFAR ResNet and WRN students; official: 0.1).")]
    public double ParaphraserLearningRate { get; set; } = 0.01;

    [Description("Reconstruction loss of the paraphraser pre-training: 'mse' (repdistiller) or 'l1' (official).")]
    public string Reconstruction { get; set; } = "mse";

    [Description("p1 of RepDistiller's factor loss (channel pooling exponent).")]
    public double P1 { get; set; } = 2;

    [Description("p2 of RepDistiller's factor loss (1 = L1).")]
    public double P2 { get; set; } = 1;

    /// <summary>The authors' variant brings the authors' weight and paraphraser recipe, unless the caller set them.</summary>
    protected internal override void ApplyDependentDefaults(IReadOnlySet<string> given)
    {
        if (Variant != Official) return;
        if (!given.Contains(nameof(Beta))) Beta = FactorTransferLoss.OfficialBeta;
        if (!given.Contains(nameof(ParaphraserEpochs))) ParaphraserEpochs = 5;
        if (!given.Contains(nameof(ParaphraserLearningRate))) ParaphraserLearningRate = 0.1;
        if (!given.Contains(nameof(Reconstruction))) Reconstruction = "l1";
    }

    /// <summary>RepDistiller's factor weight for a quick run (the Default recipe): β = 200 / 4, see docs/methods.md (FT).</summary>
    internal const double QuickRunBeta = 50;

    /// <summary>
    /// In a quick run RepDistiller's variant weighs its factor loss β = 50 unless given: at its paper weight 200 a
    /// 3-epoch resnet20 → resnet8 run on 5,000 CIFAR-10 images ended 3.9 points below CE, at 50 above it
    /// (docs/methods.md, FT). The authors' variant and the paper recipes keep their weights.
    /// </summary>
    protected override void ApplyQuickRunDefaults(IReadOnlySet<string> given)
    {
        if (Variant == RepDistiller && !given.Contains(nameof(Beta))) Beta = QuickRunBeta;
    }

    protected override IReadOnlyList<string> PreStageEpochOptions => [nameof(ParaphraserEpochs)];

    public override void Validate()
    {
        base.Validate();
        Require(Rate is > 0 and <= 4, nameof(Rate), "must be in (0, 4]", Rate);
        Require(ParaphraserEpochs >= 0, nameof(ParaphraserEpochs), "must be ≥ 0", ParaphraserEpochs);
        Require(ParaphraserLearningRate > 0, nameof(ParaphraserLearningRate), "must be > 0", ParaphraserLearningRate);
        Require(Variant is RepDistiller or Official, nameof(Variant), $"must be '{RepDistiller}' or '{Official}'", Variant);
        Require(Reconstruction is "mse" or "l1", nameof(Reconstruction), "must be 'mse' or 'l1'", Reconstruction);
    }
}

/// <summary>
/// Factor Transfer (Kim et al. 2018): a paraphraser, pre-trained as an autoencoder of the teacher's last feature map,
/// extracts the teacher factor; a translator on the student produces the student factor; the distance between the
/// normalised factors is minimised. Two variants, each with its reference's modules, loss and recipe: RepDistiller's
/// (the default) and the authors' (<see cref="FactorTransferOptions.Variant"/>).
/// </summary>
[DistillationMethod("FT", "Factor transfer: paraphraser (pre-trained autoencoder) factors of the teacher vs translator factors of the student, L1.",
    Paper = "Kim, Park, Kwak. Paraphrasing Complex Network: Network Compression via Factor Transfer. NeurIPS 2018")]
internal sealed class FactorTransferMethod(FactorTransferOptions options) : FeatureDistillationMethod<FactorTransferOptions>(options)
{
    private Paraphraser? _paraphraser;
    private Translator? _translator;
    private string _feature = "";

    public override void Initialize(MethodSetup setup)
    {
        _feature = FeatureNames.Stage(StageFeatures.Pairs(setup, Name)[^1]);
        long[] studentShape = setup.Student(_feature), teacherShape = setup.Teacher(_feature);
        bool official = Options.Variant == FactorTransferOptions.Official;
        // The authors' loss compares whole factors element by element; RepDistiller's pools the larger map first.
        if (official && (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3]))
            throw new KdException(KdErrorIds.FeatureShapeMismatch, KdErrorKind.InvalidArgument,
                $"FT: the official variant compares factors of equal spatial size, but the last stage is {studentShape[2]}×{studentShape[3]} in the student and {teacherShape[2]}×{teacherShape[3]} in the teacher; use the 'repdistiller' variant (which pools the larger map) for this pair");
        long teacherChannels = teacherShape[1];
        // The authors size the factor with Python's round (half to even, as Math.Round); RepDistiller truncates.
        double scaled = teacherChannels * Options.Rate;
        long factor = Math.Max(1, (long)(official ? Math.Round(scaled) : Math.Truncate(scaled)));
        _paraphraser = new Paraphraser(teacherChannels, factor);
        _translator = new Translator(studentShape[1], factor, batchNorm: !official);
        Extras = torch.nn.ModuleDict<torch.nn.Module>(("paraphraser", _paraphraser), ("translator", _translator));
    }

    public override IReadOnlyList<PreStage> PreStages =>
    [
        new PreStage("paraphraser", Options.ParaphraserEpochs, Options.ParaphraserLearningRate, () => _paraphraser!.parameters(),
            (step, terms) =>
            {
                var feature = step.RequireTeacher().Feature(_feature);
                var error = _paraphraser!.call(feature) - feature;
                terms.Add("reconstruction", Options.Reconstruction == "l1" ? error.abs().mean() : error.square().mean());
            }, TrainsStudent: false)
        {
            LearningRateOption = nameof(Options.ParaphraserLearningRate), EpochsOption = nameof(Options.ParaphraserEpochs),
        },
    ];

    /// <summary>The paraphraser is trained only in its pre-stage; afterwards it is frozen (and kept in eval mode).</summary>
    public override void PrepareEpoch(string stage)
    {
        if (stage != "paraphraser") _paraphraser!.eval();
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        torch.Tensor teacherFactor;
        using (torch.no_grad()) teacherFactor = _paraphraser!.Encode(step.RequireTeacher().Feature(_feature));
        var studentFactor = _translator!.call(step.Student.Feature(_feature));
        var loss = Options.Variant == FactorTransferOptions.Official
            ? FactorTransferLoss.ComputeOfficial(studentFactor, teacherFactor)
            : FactorTransferLoss.Compute(studentFactor, teacherFactor, Options.P1, Options.P2);
        terms.Add("ft", Options.Beta * loss);
    }
}
