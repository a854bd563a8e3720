using System.ComponentModel;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>Options of the methods that give the teacher auxiliary heads of their own (MHKD, TOFD).</summary>
public abstract class TeacherHeadOptions : MethodOptions
{
    [Description("Epochs of the first stage, which trains the teacher's heads with cross-entropy while the teacher stays frozen.")]
    public int HeadEpochs { get; set; } = 30;

    [Description("Learning rate of the teacher-head stage (DIH's head fine-tuning: 0.1).")]
    public double HeadLearningRate { get; set; } = 0.1;

    protected override IReadOnlyList<string> PreStageEpochOptions => [nameof(HeadEpochs)];

    public override void Validate()
    {
        Require(HeadEpochs >= 1, nameof(HeadEpochs), "must be ≥ 1 (the student learns from the teacher's heads, so they must be trained)", HeadEpochs);
        Require(HeadLearningRate > 0 && double.IsFinite(HeadLearningRate), nameof(HeadLearningRate), "must be a finite number > 0", HeadLearningRate);
    }
}

/// <summary>
/// Base of the methods that mount an auxiliary head after every stage but the last on the teacher (and the student), fit
/// the teacher's heads with cross-entropy in a first stage on the frozen teacher, and keep them fixed afterwards (their BN
/// statistics too, unless the teacher runs in train mode) while the student learns from them.
/// </summary>
internal abstract class TeacherHeadMethod<TOptions>(TOptions options) : DistillationMethod<TOptions>(options)
    where TOptions : TeacherHeadOptions, new()
{
    /// <summary>Name of the pre-stage that trains the teacher's heads.</summary>
    public const string TeacherHeadStage = "teacher_heads";

    /// <summary>The stages that get a head: every stage but the last. Set by <see cref="PairedStages"/>.</summary>
    protected int[] HeadStages { get; private set; } = [];

    /// <summary>The teacher's heads, all of them; trained only in <see cref="TeacherHeadStage"/>.</summary>
    protected abstract nn.Module TeacherHeads { get; }

    /// <summary>Logits of teacher head <paramref name="head"/> (0-based) for its stage's feature.</summary>
    protected abstract Tensor TeacherHeadLogits(int head, Tensor stageFeature);

    /// <summary>Every stage teacher and student share; fails up front unless there are two or more (one to get a head).</summary>
    protected int[] PairedStages(MethodSetup setup)
    {
        var stages = StageFeatures.Pairs(setup, Name);
        if (stages.Length < 2)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"{Name} mounts heads after every stage but the last, so it needs networks with at least two stages; these have {stages.Length}");
        HeadStages = stages[..^1];
        return stages;
    }

    public override IReadOnlyList<PreStage> PreStages =>
    [
        new PreStage(TeacherHeadStage, Options.HeadEpochs, Options.HeadLearningRate, () => TeacherHeads.parameters(),
            AddTeacherHeadLoss, TrainsStudent: false)
        {
            LearningRateOption = nameof(Options.HeadLearningRate), EpochsOption = nameof(Options.HeadEpochs),
        },
    ];

    /// <summary>
    /// The heads train in their stage (on the frozen teacher); afterwards they follow the teacher's mode, as they are part
    /// of the teacher in the references (TOFD's teacher, heads included, stays in train mode there).
    /// </summary>
    public override void PrepareEpoch(string stage) => TeacherHeads.train(stage == TeacherHeadStage || TeacherInTrainMode);

    private void AddTeacherHeadLoss(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        var losses = HeadStages.Select((s, i) =>
            nn.functional.cross_entropy(TeacherHeadLogits(i, teacher.Feature(FeatureNames.Stage(s))), step.Labels)).ToList();
        terms.Add("teacher_head_ce", torch.stack(losses).sum());
    }
}
