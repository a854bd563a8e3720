using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>OFD's options: the feature weight β is mdistiller's <c>OFD.LOSS.FEAT_WEIGHT</c> 0.001.</summary>
internal sealed class OfdOptions : FeatureMethodOptions
{
    public OfdOptions() => Beta = 0.001;

    [Description("The teacher's mode while distilling: Train, as both references (mdistiller's OFD overrides train() without the base distiller's teacher.eval(); clovaai/overhaul-distillation's train_with_distillation.py calls train() on the distiller, teacher included), so its BatchNorms use batch statistics — on a private copy, the caller's teacher is untouched; or Eval, KdTools' rule for the other methods.")]
    public TeacherMode TeacherMode { get; set; } = TeacherMode.Train;
}

/// <summary>
/// Overhaul of feature distillation (Heo et al., ICCV 2019): the student's pre-ReLU stage outputs, through 1×1 conv + BN
/// connectors, are pulled towards the teacher's pre-ReLU features with a partial L2 that ignores what the teacher's
/// ReLU would cut anyway, below a per-channel margin derived from the teacher's BatchNorm before that ReLU. Deeper
/// stages weigh more (1/2^(n−i−1)). loss = CE + β·Σ levels, as mdistiller's OFD distiller. When the networks have
/// different stage counts the deepest stages are paired, as there.
/// </summary>
[DistillationMethod("OFD", "Overhaul of feature distillation: partial L2 on pre-ReLU stage features through connectors, with margins from the teacher's BatchNorm.",
    Paper = "Heo, Kim, Yun, Park, Kwak, Choi. A Comprehensive Overhaul of Feature Distillation. ICCV 2019")]
internal sealed class OfdMethod(OfdOptions options) : FeatureDistillationMethod<OfdOptions>(options)
{
    public override bool TeacherInTrainMode => Options.TeacherMode == TeacherMode.Train;

    private (int Student, int Teacher)[] _levels = [];
    private ModuleList<Connector>? _connectors;
    private LevelBuffers? _margins;

    public override void Initialize(MethodSetup setup)
    {
        setup.Teacher(FeatureNames.Stage(1));
        int student = StageFeatures.Count(setup.StudentFeatures), teacher = StageFeatures.Count(setup.TeacherFeatures!);
        int levels = Math.Min(student, teacher);
        if (levels == 0)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument, $"OFD needs stage features; the student has {student} stages and the teacher {teacher}");
        _levels = Enumerable.Range(0, levels).Select(i => (student - levels + 1 + i, teacher - levels + 1 + i)).ToArray();
        _connectors = new ModuleList<Connector>(_levels.Select(l => new Connector(
            setup.Student(FeatureNames.StagePreActivation(l.Student))[1], setup.Teacher(FeatureNames.StagePreActivation(l.Teacher))[1])).ToArray());
        _margins = new LevelBuffers(_levels.Select(l =>
        {
            var (weight, bias) = setup.TeacherPreActivationNorm(l.Teacher, Name);
            return OfdLoss.Margins(weight, bias);
        }).ToList());
        Extras = nn.ModuleDict<nn.Module>(("connectors", _connectors), ("margins", _margins));
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        var student = _levels.Select((l, i) => _connectors![i].call(step.Student.Feature(FeatureNames.StagePreActivation(l.Student)))).ToList();
        var targets = _levels.Select(l => teacher.Feature(FeatureNames.StagePreActivation(l.Teacher))).ToList();
        var margins = Enumerable.Range(0, _levels.Length).Select(i => _margins![i]).ToList();
        terms.Add("ofd", Options.Beta * OfdLoss.Compute(student, targets, margins));
    }
}
