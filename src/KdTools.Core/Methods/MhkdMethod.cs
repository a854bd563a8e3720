using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

internal sealed class MhkdOptions : TeacherHeadOptions
{
    [Description("Temperature T of every KD pair, final and per head (DIH's setting for its baselines: 5).")]
    public double Temperature { get; set; } = 5;

    [Description("α of every KD pair: α·T²·KL + (1 − α)·CE, for the final classifier and for each head (DIH: 0.1).")]
    [LogitKdWeight]
    public double Alpha { get; set; } = 0.1;

    [Description("Weight of each head pair's KD + CE loss relative to the final classifier's (DIH's MHKD script: 0.5).")]
    public double HeadWeight { get; set; } = 0.5;

    [Description("Channels of the heads' two convs and width of their hidden FC layer (DIH's MHKD heads: 256).")]
    public int HeadWidth { get; set; } = 256;

    public override void Validate()
    {
        Require(Temperature > 0 && double.IsFinite(Temperature), nameof(Temperature), "must be a finite number > 0", Temperature);
        Require(Alpha is >= 0 and <= 1, nameof(Alpha), "must be in [0, 1]", Alpha);
        RequireNonNegative(HeadWeight, nameof(HeadWeight));
        Require(HeadWidth >= 1, nameof(HeadWidth), "must be ≥ 1", HeadWidth);
        base.Validate();
    }
}

/// <summary>
/// Multi-head KD (Wang et al. 2020) as DIH compares against it: an auxiliary classifier (<see cref="MhkdHead"/>) after
/// every stage but the last, on the teacher and on the student. A first stage trains the teacher's heads with
/// cross-entropy on the frozen teacher; then the student and its heads learn from
/// Σ_heads w·[(1 − α)·CE + α·T²·KL(teacher head ‖ student head)] + (1 − α)·CE + α·T²·KL on the final classifiers,
/// while the teacher's heads stay fixed (eval mode, no gradient).
/// Not pinned down: the MHKD paper's own head layout and weights were not available; the head follows the DIH
/// reference's MHKD module (unpadded 3×3 convs, 256 channels, no striding) and the weights its MHKD script (α 0.1, head
/// weight 0.5; its README says T = 5, the script runs T = 4). That script trains the teacher's heads with cross-entropy
/// jointly with the student instead of beforehand; here they are trained first, like DIH's own heads, so the student
/// distils from finished heads. The student's heads are a training aid and are dropped with the method.
/// </summary>
[DistillationMethod("MHKD", "Multi-head KD: auxiliary conv heads after each stage of teacher and student; student heads learn CE + KD from the same-stage teacher heads.",
    Paper = "Wang, Lohit, Jones, Fu. Multi-head Knowledge Distillation for Model Compression. 2020")]
internal sealed class MhkdMethod(MhkdOptions options) : TeacherHeadMethod<MhkdOptions>(options)
{
    private MhkdModules? _modules;

    /// <summary>The final classifier's label loss is the (1 − α) half of its KD pair.</summary>
    public override double TaskLossWeight => 1 - Options.Alpha;

    public override void Initialize(MethodSetup setup)
    {
        PairedStages(setup);
        _modules = new MhkdModules(Heads(HeadStages.Select(s => setup.Teacher(FeatureNames.Stage(s))), setup.Classes),
            Heads(HeadStages.Select(s => setup.Student(FeatureNames.Stage(s))), setup.Classes));
        Extras = _modules;
    }

    protected override nn.Module TeacherHeads => Modules.TeacherHeads;

    protected override Tensor TeacherHeadLogits(int head, Tensor stageFeature) => Modules.TeacherHeads[head].call(stageFeature);

    public override void AddLosses(StepContext step, LossTerms terms)
    {
        var (teacher, modules) = (step.RequireTeacher(), Modules);
        double alpha = Options.Alpha, temperature = Options.Temperature;
        terms.Add("kd", alpha * KdLoss.Compute(step.Student.Logits, teacher.Logits, temperature), nameof(Options.Alpha));
        var crossEntropies = new List<Tensor>(HeadStages.Length);
        var distillations = new List<Tensor>(HeadStages.Length);
        for (int i = 0; i < HeadStages.Length; i++)
        {
            var feature = FeatureNames.Stage(HeadStages[i]);
            var studentLogits = modules.StudentHeads[i].call(step.Student.Feature(feature));
            Tensor teacherLogits;
            using (torch.no_grad()) teacherLogits = modules.TeacherHeads[i].call(teacher.Feature(feature));
            crossEntropies.Add(nn.functional.cross_entropy(studentLogits, step.Labels));
            distillations.Add(KdLoss.Compute(studentLogits, teacherLogits, temperature));
        }
        terms.Add("head_ce", Options.HeadWeight * (1 - alpha) * torch.stack(crossEntropies).sum(), nameof(Options.HeadWeight));
        terms.Add("head_kd", Options.HeadWeight * alpha * torch.stack(distillations).sum(), nameof(Options.HeadWeight));
    }

    private MhkdModules Modules => _modules ?? throw new InvalidOperationException("MHKD was not initialised");

    private ModuleList<MhkdHead> Heads(IEnumerable<long[]> stageShapes, int classes) =>
        new(stageShapes.Select(shape => new MhkdHead(shape, Options.HeadWidth, classes)).ToArray());

    /// <summary>
    /// Both head lists as one registered module: a bare ModuleList or ModuleDict registers its items only when a parent
    /// registers it, so without this container the heads would be invisible to the optimizer, device moves and checkpoints.
    /// </summary>
    private sealed class MhkdModules : nn.Module
    {
        private readonly ModuleList<MhkdHead> teacher_heads, student_heads;

        public MhkdModules(ModuleList<MhkdHead> teacherHeads, ModuleList<MhkdHead> studentHeads) : base(nameof(MhkdModules))
        {
            teacher_heads = teacherHeads;
            student_heads = studentHeads;
            RegisterComponents();
        }

        public ModuleList<MhkdHead> TeacherHeads => teacher_heads;
        public ModuleList<MhkdHead> StudentHeads => student_heads;
    }
}
