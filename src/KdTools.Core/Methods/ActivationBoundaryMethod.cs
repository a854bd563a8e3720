using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

internal sealed class ActivationBoundaryOptions : FeatureMethodOptions
{
    public ActivationBoundaryOptions() => Beta = 1;

    [Description("Margin m of the hinge on pre-ReLU values.")]
    public double Margin { get; set; } = 1;

    [Description("Epochs of the initialisation stage that trains the student and the connectors on the AB loss alone; 0 = none.")]
    public int InitEpochs { get; set; } = 30;

    [Description("Learning rate of the initialisation stage; empty = the run's learning rate, the student's, as RepDistiller's pretrain.py (0.05, 0.01 for lightweight students).")]
    public double? InitLearningRate { get; set; }

    protected override IReadOnlyList<string> PreStageEpochOptions => [nameof(InitEpochs)];

    [Description("Learn a 1×1 conv + BN connector for every stage pair, also where student and teacher shapes already " +
                 "match; false (default) uses the identity there, as the AB authors and RepDistiller do.")]
    public bool LearnedConnectors { get; set; }

    public override void Validate()
    {
        base.Validate();
        Require(Margin > 0, nameof(Margin), "must be > 0", Margin);
        Require(InitEpochs >= 0, nameof(InitEpochs), "must be ≥ 0", InitEpochs);
        if (InitLearningRate is { } rate) Require(rate > 0 && double.IsFinite(rate), nameof(InitLearningRate), "must be a finite number > 0", rate);
    }
}

/// <summary>
/// Activation boundaries (Heo et al. 2019): transfer whether each teacher neuron is active, with a margin hinge on the
/// student's pre-ReLU stage outputs, deeper stages weighted more (2^(i−n+1)). A stage pair of equal shapes is compared
/// directly; otherwise a learned 1×1 conv + BN connector maps the student to the teacher's channels (both references).
/// The paper first initialises the student on this loss alone (<c>InitEpochs</c>), then trains with the labels.
/// </summary>
[DistillationMethod("AB", "Activation boundaries: hinge loss on pre-ReLU stage outputs so student neurons fire where the teacher's do.",
    Paper = "Heo et al. Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons. AAAI 2019")]
internal sealed class ActivationBoundaryMethod(ActivationBoundaryOptions options) : FeatureDistillationMethod<ActivationBoundaryOptions>(options)
{
    private int[] _stages = [];
    private ModuleList<nn.Module<torch.Tensor, torch.Tensor>>? _connectors;
    private bool _identitiesOnly;

    public override void Initialize(MethodSetup setup)
    {
        _stages = StageFeatures.Pairs(setup, Name);
        // The connectors are 1×1, so they cannot resize a map; the loss compares maps element by element.
        foreach (int s in _stages)
        {
            long[] student = setup.Student(FeatureNames.StagePreActivation(s)), teacher = setup.Teacher(FeatureNames.StagePreActivation(s));
            if (student[2] != teacher[2] || student[3] != teacher[3])
                throw new KdException(KdErrorIds.FeatureShapeMismatch, KdErrorKind.InvalidArgument,
                    $"AB: stage {s} is {student[2]}×{student[3]} in the student and {teacher[2]}×{teacher[3]} in the teacher, but AB's 1×1 connectors keep the spatial size; choose a student whose stages have the teacher's spatial sizes");
        }
        var connectors = _stages.Select(ConnectorFor).ToArray();
        _connectors = new ModuleList<nn.Module<torch.Tensor, torch.Tensor>>(connectors);
        // Only learned connectors are extra modules; with identities alone there is nothing to train or save.
        _identitiesOnly = !connectors.OfType<Connector>().Any();
        Extras = _identitiesOnly ? null : _connectors;

        nn.Module<torch.Tensor, torch.Tensor> ConnectorFor(int stage)
        {
            var student = setup.Student(FeatureNames.StagePreActivation(stage));
            var teacher = setup.Teacher(FeatureNames.StagePreActivation(stage));
            bool sameShape = student.Skip(1).SequenceEqual(teacher.Skip(1));
            return sameShape && !Options.LearnedConnectors ? nn.Identity() : new Connector(student[1], teacher[1]);
        }
    }

    public override IReadOnlyList<PreStage> PreStages =>
    [
        new PreStage("init", Options.InitEpochs, Options.InitLearningRate, () => _connectors!.parameters(),
            (step, terms) => terms.Add("ab", Boundary(step)), TrainsStudent: true)
        {
            LearningRateOption = nameof(Options.InitLearningRate), EpochsOption = nameof(Options.InitEpochs),
        },
    ];

    protected override void AddMethodLosses(StepContext step, LossTerms terms) => terms.Add("ab", Options.Beta * Boundary(step));

    private torch.Tensor Boundary(StepContext step)
    {
        var teacher = step.RequireTeacher();
        var losses = ActivationBoundaryLoss.ComputeLayers(
            _stages.Select((s, i) => _connectors![i].call(step.Student.Feature(FeatureNames.StagePreActivation(s)))).ToList(),
            StageFeatures.Collect(teacher, _stages, FeatureNames.StagePreActivation), Options.Margin);
        return torch.stack(losses).sum();
    }

    public override void Dispose()
    {
        // Extras owns the connectors when there are learned ones; identities alone are this method's to free.
        if (_identitiesOnly) _connectors?.Dispose();
        base.Dispose();
    }
}
