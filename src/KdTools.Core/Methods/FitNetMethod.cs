using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

internal sealed class FitNetOptions : FeatureMethodOptions
{
    public FitNetOptions() => Beta = 100;

    [Description("Stage whose output is the hint (teacher) and the guided layer (student); 0 = the middle stage.")]
    public int HintStage { get; set; }

    [Description("Epochs of the paper's first stage: student up to the guided layer plus regressor trained on the hint loss alone; 0 = single-stage.")]
    public int HintEpochs { get; set; } = 30;

    [Description("Learning rate of the hint stage.")]
    public double HintLearningRate { get; set; } = 0.05;

    protected override IReadOnlyList<string> PreStageEpochOptions => [nameof(HintEpochs)];

    public override void Validate()
    {
        base.Validate();
        Require(HintStage >= 0, nameof(HintStage), "must be ≥ 0", HintStage);
        Require(HintEpochs >= 0, nameof(HintEpochs), "must be ≥ 0", HintEpochs);
        Require(HintLearningRate > 0, nameof(HintLearningRate), "must be > 0", HintLearningRate);
    }
}

/// <summary>
/// FitNets (Romero et al. 2015): a conv regressor maps the student's guided layer onto the teacher's hint layer and
/// the MSE between them is minimised. The paper trains in two stages, hints first; <c>HintEpochs</c> runs that stage
/// (set 0 for the single-stage variant most toolkits use), then the main stage adds β·MSE to the label loss.
/// </summary>
[DistillationMethod("FitNet", "FitNets: match a middle-stage feature through a learned conv regressor (MSE); optional hint pre-training stage.",
    Paper = "Romero et al. FitNets: Hints for Thin Deep Nets. ICLR 2015")]
internal sealed class FitNetMethod(FitNetOptions options) : FeatureDistillationMethod<FitNetOptions>(options)
{
    private ConvRegressor? _regressor;
    private string _feature = "";

    public override void Initialize(MethodSetup setup)
    {
        int stages = Math.Min(StageFeatures.Count(setup.StudentFeatures), StageFeatures.Count(setup.TeacherFeatures ?? setup.StudentFeatures));
        int stage = Options.HintStage == 0 ? StageFeatures.Middle(stages) : Options.HintStage;
        _feature = FeatureNames.Stage(stage);
        _regressor = new ConvRegressor(setup.Student(_feature), setup.Teacher(_feature));
        Extras = _regressor;
    }

    /// <summary>The hint (known once initialised); the hint stage reads nothing else of the teacher.</summary>
    public override IReadOnlyCollection<string>? TeacherFeaturesRead => _feature.Length == 0 ? null : [_feature];

    public override IReadOnlyList<PreStage> PreStages =>
    [
        // The whole student is offered; only the layers up to the guided one receive gradients, the rest keep none.
        new PreStage("hint", Options.HintEpochs, Options.HintLearningRate, () => _regressor!.parameters(), AddHintLoss, TrainsStudent: true)
        {
            LearningRateOption = nameof(Options.HintLearningRate), EpochsOption = nameof(Options.HintEpochs),
        },
    ];

    protected override void AddMethodLosses(StepContext step, LossTerms terms) =>
        terms.Add("hint", Options.Beta * Hint(step));

    private void AddHintLoss(StepContext step, LossTerms terms) => terms.Add("hint", Hint(step));

    private TorchSharp.torch.Tensor Hint(StepContext step) =>
        FitNetLoss.Compute(_regressor!.call(step.Student.Feature(_feature)), step.RequireTeacher().Feature(_feature));
}
