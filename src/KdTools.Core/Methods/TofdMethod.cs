using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

internal sealed class TofdOptions : TeacherHeadOptions
{
    [Description("t of the KD temperature ramp: epoch e (0-based) uses T = 1 + t·min(e + 1, R)/R (official --t 3).")]
    public double Temperature { get; set; } = 3;

    [Description("R of the KD temperature ramp: epochs until T reaches 1 + t (official: 250, its run length); 1 = constant 1 + t.")]
    public int TemperatureRampEpochs { get; set; } = 250;

    [Description("Weight of the KD terms, final and per head: KL at the ramped temperature, without T² (official: 1).")]
    [LogitKdWeight]
    public double KdWeight { get; set; } = 1;

    [Description("Weight of the feature loss, the L2 distance between resized student and teacher task-oriented features (official --alpha 0.05).")]
    public double FeatureWeight { get; set; } = 0.05;

    [Description("Weight of the orthogonality penalty ‖WWᵀ − I‖ + ‖WᵀW − I‖ on the feature-resizing layers (official --beta 0.03).")]
    public double OrthogonalWeight { get; set; } = 0.03;

    [Description("The teacher's mode while distilling: Train, as the official code (neither distill.py nor the DIH repository's train_tofd.py calls teacher.eval()), so the teacher's and its heads' BatchNorms use batch statistics — on a private copy, the caller's teacher is untouched; or Eval, KdTools' rule for the other methods.")]
    public TeacherMode TeacherMode { get; set; } = TeacherMode.Train;

    public override void Validate()
    {
        RequireNonNegative(Temperature, nameof(Temperature));
        Require(TemperatureRampEpochs >= 1, nameof(TemperatureRampEpochs), "must be ≥ 1", TemperatureRampEpochs);
        RequireNonNegative(KdWeight, nameof(KdWeight));
        RequireNonNegative(FeatureWeight, nameof(FeatureWeight));
        RequireNonNegative(OrthogonalWeight, nameof(OrthogonalWeight));
        base.Validate();
    }

    /// <summary>The official schedule's temperature for a 0-based epoch: 1 + t·min(e + 1, R)/R.</summary>
    public double TemperatureAt(int epoch) => 1 + Temperature * Math.Min(epoch + 1, TemperatureRampEpochs) / TemperatureRampEpochs;
}

/// <summary>
/// Task-oriented feature distillation (Zhang et al. 2020). After every stage but the last, teacher and student get a
/// <see cref="TaskOrientedHead"/> shaped like the rest of their backbone; the final classifier counts as the deepest head,
/// its pooled embedding as its task-oriented feature. A first stage trains the teacher's heads with cross-entropy on the
/// frozen teacher; they stay fixed afterwards. The student and its heads then learn from, over every level,
/// CE + KdWeight·KL_T(teacher ‖ student) + FeatureWeight·‖R(f_s) − f_t‖₂, plus OrthogonalWeight·Σ(‖RRᵀ − I‖ + ‖RᵀR − I‖)
/// over the bias-free linear resizing layers R (<see cref="FeatureResizer"/>), with T ramped per epoch as in the
/// official script. Defaults are the official distill.py's (ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation).
/// Deviations and what could not be pinned down: the official teacher is trained with its heads from the start, here
/// they are fitted afterwards on the frozen teacher (as DIH fits its heads); every level gets a resizing layer even when
/// the widths agree, as in the official code; the official KD is a soft cross-entropy, here KL (same gradients, minus the
/// teacher's constant entropy); the feature distance is taken over the whole batch, unsquared, as the official
/// torch.dist, so its scale depends on the batch size (official batch: 128); the official ramp divides by 250 although
/// DIH's copy trains 200 epochs. The student's heads and resizing layers are a training aid, dropped with the method.
/// </summary>
[DistillationMethod("TOFD", "Task-oriented feature distillation: backbone-shaped heads on teacher and student; CE + KD per head, L2 on resized head features, orthogonal resizing.",
    Paper = "Zhang, Shi, Shi, Ma, Bao. Task-Oriented Feature Distillation. NeurIPS 2020")]
internal sealed class TofdMethod(TofdOptions options) : TeacherHeadMethod<TofdOptions>(options)
{
    public override bool TeacherInTrainMode => Options.TeacherMode == TeacherMode.Train;

    private TofdModules? _modules;

    public override void Initialize(MethodSetup setup)
    {
        var stages = PairedStages(setup);
        var teacherHeads = Heads(stages, s => setup.Teacher(FeatureNames.Stage(s)), setup.Classes);
        var studentHeads = Heads(stages, s => setup.Student(FeatureNames.Stage(s)), setup.Classes);
        // One resizer per head, then one for the final embeddings.
        var resizers = new ModuleList<FeatureResizer>(studentHeads.Zip(teacherHeads, (s, t) => (s.FeatureWidth, t.FeatureWidth))
            .Append((setup.Student(FeatureNames.Embedding)[1], setup.Teacher(FeatureNames.Embedding)[1]))
            .Select(widths => new FeatureResizer(widths.Item1, widths.Item2)).ToArray());
        _modules = new TofdModules(teacherHeads, studentHeads, resizers);
        Extras = _modules;
    }

    protected override nn.Module TeacherHeads => Modules.TeacherHeads;

    protected override Tensor TeacherHeadLogits(int head, Tensor stageFeature) => Modules.TeacherHeads[head].Run(stageFeature).Logits;

    public override void AddLosses(StepContext step, LossTerms terms)
    {
        var (teacher, modules) = (step.RequireTeacher(), Modules);
        double temperature = Options.TemperatureAt(step.Epoch);
        terms.Add("kd", Options.KdWeight * Kl(step.Student.Logits, teacher.Logits, temperature), nameof(Options.KdWeight));
        var crossEntropies = new List<Tensor>(HeadStages.Length);
        var distillations = new List<Tensor>(HeadStages.Length);
        var distances = new List<Tensor>(HeadStages.Length + 1);
        for (int i = 0; i < HeadStages.Length; i++)
        {
            var feature = FeatureNames.Stage(HeadStages[i]);
            var (studentLogits, studentFeature) = modules.StudentHeads[i].Run(step.Student.Feature(feature));
            Tensor teacherLogits, teacherFeature;
            using (torch.no_grad()) (teacherLogits, teacherFeature) = modules.TeacherHeads[i].Run(teacher.Feature(feature));
            crossEntropies.Add(nn.functional.cross_entropy(studentLogits, step.Labels));
            distillations.Add(Kl(studentLogits, teacherLogits, temperature));
            distances.Add(FeatureResizer.Distance(modules.Resizers[i].call(studentFeature), teacherFeature));
        }
        distances.Add(FeatureResizer.Distance(modules.Resizers[^1].call(step.Student.Feature(FeatureNames.Embedding)),
            teacher.Feature(FeatureNames.Embedding)));
        terms.Add("head_ce", torch.stack(crossEntropies).sum());
        terms.Add("head_kd", Options.KdWeight * torch.stack(distillations).sum(), nameof(Options.KdWeight));
        terms.Add("feature", Options.FeatureWeight * torch.stack(distances).sum(), nameof(Options.FeatureWeight));
        terms.Add("orthogonal", Options.OrthogonalWeight * torch.stack(modules.Resizers.Select(r => r.OrthogonalityPenalty()).ToList()).sum(), nameof(Options.OrthogonalWeight));
    }

    /// <summary>KL at temperature T, batch mean, without the T² factor (the official soft cross-entropy has none).</summary>
    private static Tensor Kl(Tensor studentLogits, Tensor teacherLogits, double temperature) =>
        KdLoss.Compute(studentLogits, teacherLogits, temperature) / (temperature * temperature);

    /// <summary>A head after each stage but the last, each mirroring the stages after it.</summary>
    private ModuleList<TaskOrientedHead> Heads(int[] stages, Func<int, long[]> shape, int classes) =>
        new(HeadStages.Select(s => new TaskOrientedHead(stages.Where(later => later >= s).Select(shape).ToList(), classes)).ToArray());

    private TofdModules Modules => _modules ?? throw new InvalidOperationException("TOFD was not initialised");

    /// <summary>
    /// Heads and resizers as one registered module: a bare ModuleList or ModuleDict registers its items only when a
    /// parent registers it, so without this container they would be invisible to the optimizer, device moves and checkpoints.
    /// </summary>
    private sealed class TofdModules : nn.Module
    {
        private readonly ModuleList<TaskOrientedHead> teacher_heads, student_heads;
        private readonly ModuleList<FeatureResizer> resizers;

        public TofdModules(ModuleList<TaskOrientedHead> teacherHeads, ModuleList<TaskOrientedHead> studentHeads,
            ModuleList<FeatureResizer> resizers) : base(nameof(TofdModules))
        {
            teacher_heads = teacherHeads;
            student_heads = studentHeads;
            this.resizers = resizers;
            RegisterComponents();
        }

        public ModuleList<TaskOrientedHead> TeacherHeads => teacher_heads;
        public ModuleList<TaskOrientedHead> StudentHeads => student_heads;
        public ModuleList<FeatureResizer> Resizers => resizers;
    }
}
