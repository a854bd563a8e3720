using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Models;
using TorchSharp;

namespace KdTools.Core.Methods;

/// <summary>FSP's options: RepDistiller's initialisation stage (<c>--init_epochs</c>); the main stage is CE (+ KD).</summary>
internal sealed class FspOptions : FeatureMethodOptions
{
    [Description("Epochs of the initialisation stage that trains the student on the FSP loss alone (RepDistiller --init_epochs 30); 0 = none.")]
    public int InitEpochs { get; set; } = 30;

    [Description("Learning rate of the initialisation stage; empty = the run's learning rate, the student's, as RepDistiller's pretrain.py (0.05, 0.01 for lightweight students).")]
    public double? InitLearningRate { get; set; }

    protected override IReadOnlyList<string> PreStageEpochOptions => [nameof(InitEpochs)];

    public override void Validate()
    {
        base.Validate();
        Require(InitEpochs >= 0, nameof(InitEpochs), "must be ≥ 0", InitEpochs);
        if (InitLearningRate is { } rate) Require(rate > 0 && double.IsFinite(rate), nameof(InitLearningRate), "must be a finite number > 0", rate);
    }
}

/// <summary>
/// FSP (Yim et al., CVPR 2017): the Gram matrices between consecutive features (stem, stage1 … stageN) describe how a
/// network transforms its representation; an initialisation stage trains the student to reproduce the teacher's, then
/// the main stage trains on the labels (plus <c>KdWeight</c>·KD), as RepDistiller. Student and teacher need the same
/// channel counts at every position.
/// </summary>
[DistillationMethod("FSP", "Flow of solution procedure: match the Gram matrices of consecutive features in an initialisation stage, then train on labels (+ KD), like RepDistiller, whose main stage has no FSP term.",
    Paper = "Yim, Joo, Bae, Kim. A Gift from Knowledge Distillation: Fast Optimization, Network Minimization and Transfer Learning. CVPR 2017")]
internal sealed class FspMethod(FspOptions options) : FeatureDistillationMethod<FspOptions>(options)
{
    private string[] _features = [];

    public override void Initialize(MethodSetup setup)
    {
        _features = StageFeatures.Pairs(setup, Name).Select(FeatureNames.Stage).Prepend(FeatureNames.Stem).ToArray();
        var mismatched = _features.Where(f => setup.Student(f)[1] != setup.Teacher(f)[1])
            .Select(f => $"{f}: {setup.Student(f)[1]} vs {setup.Teacher(f)[1]}").ToList();
        if (mismatched.Count > 0)
            throw new KdException(KdErrorIds.FeatureShapeMismatch, KdErrorKind.InvalidArgument,
                $"FSP compares Gram matrices of student and teacher features, which needs equal channel counts, but student and teacher differ ({string.Join("; ", mismatched)}); pick a student of the teacher's family and width (resnet8 for resnet56, resnet8x4 for resnet32x4) or another method",
                string.Join(", ", mismatched));
    }

    public override IReadOnlyList<PreStage> PreStages =>
    [
        new PreStage("init", Options.InitEpochs, Options.InitLearningRate, () => [], (step, terms) => terms.Add("fsp", Flow(step)),
            TrainsStudent: true)
        {
            LearningRateOption = nameof(Options.InitLearningRate), EpochsOption = nameof(Options.InitEpochs),
        },
    ];

    /// <summary>RepDistiller's main stage has no FSP term (its -b 50 has no effect); Beta adds one.</summary>
    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        if (Options.Beta > 0) terms.Add("fsp", Options.Beta * Flow(step));
    }

    private torch.Tensor Flow(StepContext step)
    {
        var teacher = step.RequireTeacher();
        var losses = FspLoss.ComputeLayers(_features.Select(step.Student.Feature).ToList(), _features.Select(teacher.Feature).ToList());
        return torch.stack(losses).sum();
    }
}
