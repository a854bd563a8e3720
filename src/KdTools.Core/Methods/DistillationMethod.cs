using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>Marks a <see cref="DistillationMethod{TOptions}"/> for the registry under <see cref="Name"/>.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class DistillationMethodAttribute(string name, string summary) : RegisteredAttribute
{
    public string Name { get; } = name;
    public string Summary { get; } = summary;

    /// <summary>False for methods that train without a teacher (the CE baseline, self-distillation).</summary>
    public bool NeedsTeacher { get; init; } = true;

    /// <summary>The paper, for listings and help.</summary>
    public string Paper { get; init; } = "";

    /// <summary>
    /// The prediction tasks the method defines its losses for (classification unless it says otherwise); a run of
    /// another task fails before training with <see cref="KdErrorIds.MethodTaskUnsupported"/>.
    /// </summary>
    public PredictionTask[] Tasks { get; init; } = [PredictionTask.Classification];
}

/// <summary>
/// A distillation method: its options, any extra trainable modules, optional pre-stages, and its loss terms.
/// The engine owns everything else (data, forward passes, the task loss, the optimizer, checkpoints, logging).
/// </summary>
public abstract class DistillationMethod : IDisposable
{
    private nn.Module? _extras;

    protected DistillationMethod(MethodOptions options)
    {
        Options = options;
        var attribute = GetType().GetCustomAttribute<DistillationMethodAttribute>()
            ?? throw new InvalidOperationException($"{GetType().Name} lacks [DistillationMethod]");
        Name = attribute.Name;
        NeedsTeacher = attribute.NeedsTeacher;
        Tasks = attribute.Tasks;
    }

    /// <summary>For objectives the engine runs that are not user-selectable methods (head fine-tuning: classification).</summary>
    protected DistillationMethod(MethodOptions options, string name, bool needsTeacher)
    {
        Options = options;
        Name = name;
        NeedsTeacher = needsTeacher;
        Tasks = [PredictionTask.Classification];
    }

    public string Name { get; }
    public bool NeedsTeacher { get; }
    public MethodOptions Options { get; }

    /// <summary>
    /// The teacher features (<see cref="Models.FeatureNames"/>) that <see cref="AddLosses"/> and the pre-stages read
    /// besides the teacher's logits, or null when they may read any feature or exit. Naming them lets the engine reuse
    /// the teacher's outputs across epochs where they cannot change (training without augmentation:
    /// <see cref="Training.TeacherOutputCache"/>).
    /// </summary>
    public virtual IReadOnlyCollection<string>? TeacherFeaturesRead => null;

    /// <summary>
    /// Whether <see cref="AddLosses"/> and the pre-stages read the teacher's logits. A method that names its
    /// <see cref="TeacherFeaturesRead"/> and reads no logits gets a teacher pass that stops after the last of those
    /// features (<see cref="Models.FeatureRequest"/>): no later stages, no pooling, no classifier.
    /// </summary>
    public virtual bool ReadsTeacherLogits => true;

    /// <summary>The prediction tasks the method defines its losses for (<see cref="DistillationMethodAttribute.Tasks"/>).</summary>
    public IReadOnlyList<PredictionTask> Tasks { get; }

    /// <summary>
    /// A second optimisation the engine runs after every main-stage step, with its own SGD (an adversarial critic's
    /// update), or null. Its parameters belong to <see cref="Extras"/> — so they move, switch to train mode and are
    /// checkpointed with them — but stay out of the student's optimizer.
    /// </summary>
    public virtual AuxiliaryUpdate? AuxiliaryUpdate => null;

    /// <summary>
    /// True when the method's reference runs the teacher in train mode (BatchNorm on batch statistics, running averages
    /// updated: OFD's references). The engine then runs a private copy of the teacher in train mode, under no_grad,
    /// without the folded-BatchNorm and cached-output shortcuts; the caller's teacher is untouched.
    /// </summary>
    public virtual bool TeacherInTrainMode => false;

    /// <summary>Weight of the hard-label cross-entropy the engine adds (1 unless the method rebalances it, as KD does).</summary>
    public virtual double TaskLossWeight => 1.0;

    /// <summary>
    /// Extra trainable modules (regressors, connectors, embedding heads) as one container, or null. The engine moves it
    /// with the student, trains it with the student's optimizer, and saves and restores it in checkpoints.
    /// </summary>
    public nn.Module? Extras
    {
        get => _extras;
        // A bare ModuleList/ModuleDict exposes its children (parameters, buffers, .to(device)) only once a parent
        // module registers it, so every method's extras go into one registered container.
        protected set => _extras = value is null ? null : new ExtrasContainer(value);
    }

    /// <summary>
    /// Called once before training, outside any dispose scope, with the feature shapes of both networks (from a probe
    /// forward pass). Check that the features the method needs exist and build <see cref="Extras"/> here: the engine
    /// runs this with libtorch's global generator seeded from the run's seed and locked, so module constructors'
    /// default initialisation is reproducible; explicit draws take <see cref="MethodSetup.Random"/>.
    /// </summary>
    public virtual void Initialize(MethodSetup setup)
    {
    }

    /// <summary>
    /// Extra exits the trained student keeps (self-distillation branches), or null. They live in <see cref="Extras"/>
    /// during training; afterwards the student and these heads form a <see cref="Models.MultiExitNet"/>.
    /// </summary>
    public virtual Models.ExitHeads? StudentExits => null;

    /// <summary>Hands <see cref="Extras"/> over to the caller (the trained model keeps them), so Dispose leaves them alive.</summary>
    internal nn.Module? ReleaseExtras()
    {
        var extras = _extras;
        _extras = null;
        return extras;
    }

    /// <summary>
    /// Trainable parameters the method adds that the trained student does not keep (connectors, regressors, heads,
    /// embeddings), as mdistiller's get_extra_parameters counts them; known after <see cref="Initialize"/>.
    /// </summary>
    public virtual long ExtraParameters =>
        (Extras?.parameters().Sum(p => p.numel()) ?? 0) - (StudentExits?.parameters().Sum(p => p.numel()) ?? 0);

    /// <summary>Stages run before the main training (FitNet hints, FT paraphraser, AB connector initialisation).</summary>
    public virtual IReadOnlyList<PreStage> PreStages => [];

    /// <summary>
    /// Whole runs the method makes before its own, in order (TAKD: teacher → assistant): each trains a fresh network
    /// from the current teacher, which then teaches the next run; the last one teaches the requested student.
    /// </summary>
    public virtual IReadOnlyList<IntermediateTeacher> IntermediateTeachers => [];

    /// <summary>
    /// Called at the start of every epoch after the engine put the student and <see cref="Extras"/> in train mode, to
    /// switch parts that must not learn (a pre-trained paraphraser) back to eval mode.
    /// </summary>
    public virtual void PrepareEpoch(string stage)
    {
    }

    /// <summary>Adds this step's weighted loss terms. Runs inside the engine's per-step dispose scope.</summary>
    public abstract void AddLosses(StepContext step, LossTerms terms);

    public virtual void Dispose()
    {
        _extras?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Registers a method's modules as the child "modules" (state keys <c>modules.…</c>).</summary>
internal sealed class ExtrasContainer : nn.Module
{
    // The field name is the state-dict prefix; it hides Module.modules(), which nothing calls on this container.
    private new readonly nn.Module modules;

    public ExtrasContainer(nn.Module modules) : base("Extras")
    {
        this.modules = modules;
        RegisterComponents();
    }
}

/// <summary>Base with typed options.</summary>
public abstract class DistillationMethod<TOptions>(TOptions options) : DistillationMethod(options)
    where TOptions : MethodOptions, new()
{
    public new TOptions Options => (TOptions)base.Options;
}

/// <summary>Feature shapes of teacher and student (batch dimension included, from a 2-sample probe).</summary>
public sealed class MethodSetup
{
    /// <param name="random">The generator for explicit draws in <see cref="DistillationMethod.Initialize"/>; null = seeded with 0 (tests).</param>
    /// <param name="trainingLabels">The training split's labels, int64 [N] on the CPU (read, never modified).</param>
    /// <param name="teacherPreActivationNorm">The teacher's <see cref="Models.ClassifierNet.PreActivationNorm"/>.</param>
    /// <param name="inputShape">The probe's input shape [2, C, H, W]; null = unknown (tests).</param>
    public MethodSetup(IReadOnlyDictionary<string, long[]> student, IReadOnlyDictionary<string, long[]>? teacher,
        int classes, Device device, IReadOnlyList<string>? studentExits = null, IReadOnlyList<string>? teacherExits = null,
        long trainingSamples = 0, Generator? random = null, Tensor? trainingLabels = null,
        Func<int, (Tensor Weight, Tensor Bias)?>? teacherPreActivationNorm = null, long[]? inputShape = null)
    {
        InputShape = inputShape;
        Random = random ?? new Generator(0);
        TrainingSamples = trainingSamples;
        TrainingLabels = trainingLabels;
        _teacherPreActivationNorm = teacherPreActivationNorm;
        StudentFeatures = student;
        TeacherFeatures = teacher;
        Classes = classes;
        Device = device;
        StudentExits = studentExits ?? [];
        TeacherExits = teacherExits ?? [];
    }

    private readonly Func<int, (Tensor Weight, Tensor Bias)?>? _teacherPreActivationNorm;

    /// <summary>
    /// Seeded from the run's seed: explicit random draws of <see cref="DistillationMethod.Initialize"/> (a memory bank's
    /// initial rows) take it, never libtorch's global generator. Valid during Initialize only.
    /// </summary>
    public Generator Random { get; }

    /// <summary>Shape of the networks' input batch [N, C, H, W] as probed (image-conditioned modules read C); null when unknown.</summary>
    public long[]? InputShape { get; }

    /// <summary>Size of the training split (memory-bank methods keep one row per sample).</summary>
    public long TrainingSamples { get; }

    /// <summary>
    /// The training split's labels by dataset index, int64 [N] on the CPU, or null where the caller has none; methods
    /// that sample by class (CRD's negatives) copy what they need. Read only.
    /// </summary>
    public Tensor? TrainingLabels { get; }

    /// <summary>
    /// The affine (γ, β) of the teacher's BatchNorm before stage <paramref name="stage"/>'s ReLU (margin-based methods),
    /// or a clear error when the teacher has no such BatchNorm. Live parameters: copy, never modify.
    /// </summary>
    public (Tensor Weight, Tensor Bias) TeacherPreActivationNorm(int stage, string method)
    {
        Teacher(Models.FeatureNames.StagePreActivation(stage));
        return _teacherPreActivationNorm?.Invoke(stage) ?? throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
            $"{method} derives its margins from the BatchNorm before each teacher stage's ReLU, but the teacher exposes none for stage {stage}; use a teacher architecture with batch norm",
            Models.FeatureNames.StagePreActivation(stage));
    }

    /// <summary>Names of the student's extra exits (shallow to deep); empty for a plain network.</summary>
    public IReadOnlyList<string> StudentExits { get; }

    /// <summary>Names of the teacher's extra exits, e.g. the heads mounted by Add-IntermediateHead.</summary>
    public IReadOnlyList<string> TeacherExits { get; }

    public IReadOnlyDictionary<string, long[]> StudentFeatures { get; }
    public IReadOnlyDictionary<string, long[]>? TeacherFeatures { get; }
    public int Classes { get; }
    public Device Device { get; }

    /// <summary>Shape of a student feature, or a clear error naming what the architecture offers.</summary>
    public long[] Student(string feature) => Find(StudentFeatures, feature, "student");

    public long[] Teacher(string feature) => Find(TeacherFeatures ?? throw new KdException(KdErrorIds.MethodNeedsTeacher,
        KdErrorKind.InvalidOperation, "this method needs a teacher; give it one"), feature, "teacher");

    private static long[] Find(IReadOnlyDictionary<string, long[]> features, string name, string role) =>
        features.TryGetValue(name, out var shape) ? shape
            : throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"the {role} has no feature '{name}' (needed by this method); it has: {string.Join(", ", features.Keys)}", name);
}

/// <summary>
/// A stage trained before the main one, with its own optimizer, epochs, learning rate and schedule (constant unless
/// <see cref="Schedule"/> says otherwise, as in RepDistiller's pre-training), and its own loss.
/// </summary>
/// <param name="Name">Shown in progress and as its own rows in the history (for example <c>hint</c>).</param>
/// <param name="Epochs">How long it runs; 0 skips it.</param>
/// <param name="LearningRate">Its SGD learning rate; null = the main stage's (the student's rate, as RepDistiller's pre-training).</param>
/// <param name="ExtraParameters">The method's own parameters it trains (evaluated when the stage starts).</param>
/// <param name="AddLosses">Its loss terms for one batch.</param>
/// <param name="TrainsStudent">
/// True: the student's parameters join the optimizer too (only those the loss reaches get gradients and move).
/// False: the student does not run at all (its forward pass would be wasted); the loss reads only the teacher and the
/// method's modules, and the stage reports no train accuracy.
/// </param>
public sealed record PreStage(
    string Name,
    int Epochs,
    double? LearningRate,
    Func<IEnumerable<TorchSharp.Modules.Parameter>> ExtraParameters,
    Action<StepContext, LossTerms> AddLosses,
    bool TrainsStudent)
{
    /// <summary>The stage's schedule over its own epochs; never the main stage's milestones.</summary>
    public Training.LearningRateSchedule Schedule { get; init; } = Training.LearningRateSchedule.Constant;

    /// <summary>
    /// The method option that sets <see cref="LearningRate"/> (<c>ParaphraserLearningRate</c>): what a divergence in
    /// this stage tells the user to lower, since the run's <c>-LearningRate</c> does not reach it.
    /// </summary>
    public string? LearningRateOption { get; init; }

    /// <summary>The method option that sets <see cref="Epochs"/> (<c>HintEpochs</c>), for messages and listings.</summary>
    public string? EpochsOption { get; init; }
}

/// <summary>
/// A whole run a method makes before its own (<see cref="DistillationMethod.IntermediateTeachers"/>).
/// </summary>
/// <param name="Name">Names the run in progress, logs and its checkpoint subfolder (<c>assistant</c>).</param>
/// <param name="Architecture">The network it trains from scratch (seeded from the run's seed).</param>
/// <param name="CreateMethod">The method it trains with; the engine disposes it.</param>
/// <param name="Epochs">Its main-stage epochs; 0 = the run's.</param>
public sealed record IntermediateTeacher(string Name, string Architecture, Func<DistillationMethod> CreateMethod, int Epochs);
