using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;

namespace KdTools.Core.Methods;

public sealed class FactorTransferOptions : FeatureMethodOptions
{
    public FactorTransferOptions() => Beta = 200;

    [Description("Factor channels as a fraction k of the teacher's last-stage channels.")]
    public double Rate { get; set; } = 0.5;

    [Description("Epochs of the paraphraser's reconstruction pre-training on the teacher's last stage.")]
    public int ParaphraserEpochs { get; set; } = 30;

    [Description("Learning rate of the paraphraser pre-training.")]
    public double ParaphraserLearningRate { get; set; } = 0.1;

    [Description("'official': L1 between whole-factor L2-normalised factors (Factor-Transfer code); 'pooled': the channel-pooled factor with p1/p2 (seed 001's variant).")]
    public string Variant { get; set; } = "official";

    [Description("p1 of the pooled variant (channel pooling exponent).")]
    public double P1 { get; set; } = 2;

    [Description("p2 of the pooled variant (1 = L1).")]
    public double P2 { get; set; } = 1;

    public override void Validate()
    {
        base.Validate();
        Require(Rate is > 0 and <= 4, nameof(Rate), "must be in (0, 4]", Rate);
        Require(ParaphraserEpochs >= 0, nameof(ParaphraserEpochs), "must be ≥ 0", ParaphraserEpochs);
        Require(ParaphraserLearningRate > 0, nameof(ParaphraserLearningRate), "must be > 0", ParaphraserLearningRate);
        Require(Variant is "official" or "pooled", nameof(Variant), "must be 'official' or 'pooled'", Variant);
    }
}

/// <summary>
/// Factor Transfer (Kim et al. 2018): a paraphraser, pre-trained as an autoencoder of the teacher's last feature map,
/// extracts the teacher factor; a translator on the student produces the student factor; the L1 distance between the
/// normalised factors is minimised. β defaults to 200 (the table); the official code uses 500.
/// </summary>
[DistillationMethod("FT", "Factor transfer: paraphraser (pre-trained autoencoder) factors of the teacher vs translator factors of the student, L1.",
    Paper = "Kim, Park, Kwak. Paraphrasing Complex Network: Network Compression via Factor Transfer. NeurIPS 2018")]
public sealed class FactorTransferMethod(FactorTransferOptions options) : FeatureDistillationMethod<FactorTransferOptions>(options)
{
    private Paraphraser? _paraphraser;
    private Translator? _translator;
    private string _feature = "";

    public override void Initialize(MethodSetup setup)
    {
        _feature = FeatureNames.Stage(StageFeatures.Pairs(setup, Name)[^1]);
        long[] studentShape = setup.Student(_feature), teacherShape = setup.Teacher(_feature);
        // The authors' loss compares whole factors element by element; RepDistiller's pools the larger map first.
        if (Options.Variant == "official" && (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3]))
            throw new KdException(KdErrorIds.FeatureShapeMismatch, KdErrorKind.InvalidArgument,
                $"FT: the official variant compares factors of equal spatial size, but the last stage is {studentShape[2]}×{studentShape[3]} in the student and {teacherShape[2]}×{teacherShape[3]} in the teacher; use the 'pooled' variant (RepDistiller's, which pools the larger map) for this pair");
        long teacherChannels = teacherShape[1];
        long factor = Math.Max(1, (long)Math.Round(teacherChannels * Options.Rate));
        _paraphraser = new Paraphraser(teacherChannels, factor);
        _translator = new Translator(studentShape[1], factor);
        Extras = torch.nn.ModuleDict<torch.nn.Module>(("paraphraser", _paraphraser), ("translator", _translator));
    }

    public override IReadOnlyList<PreStage> PreStages =>
    [
        new PreStage("paraphraser", Options.ParaphraserEpochs, Options.ParaphraserLearningRate, () => _paraphraser!.parameters(),
            (step, terms) =>
            {
                var feature = step.RequireTeacher().Feature(_feature);
                terms.Add("reconstruction", (_paraphraser!.call(feature) - feature).abs().mean());
            }, TrainsStudent: false),
    ];

    /// <summary>The paraphraser is trained only in its pre-stage; afterwards it must not change, BN statistics included.</summary>
    public override void PrepareEpoch(string stage)
    {
        if (stage != "paraphraser") _paraphraser!.eval();
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        torch.Tensor teacherFactor;
        using (torch.no_grad()) teacherFactor = _paraphraser!.Encode(step.RequireTeacher().Feature(_feature));
        var studentFactor = _translator!.call(step.Student.Feature(_feature));
        var loss = Options.Variant == "official"
            ? FactorTransferLoss.ComputeOfficial(studentFactor, teacherFactor)
            : FactorTransferLoss.Compute(studentFactor, teacherFactor, Options.P1, Options.P2);
        terms.Add("ft", Options.Beta * loss);
    }
}
