using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using KdTools.Core.Training;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>
/// SKD's defaults are the official code's (irfanICMLL/structure_knowledge_distillation, utils/train_options.py), each
/// part switchable like its <c>--pi</c>, <c>--pa</c> and <c>--ho</c>. Where the authors' run script
/// (run_train_val.sh) passes another value than the code's default, the description says so.
/// </summary>
internal sealed class SkdOptions : MethodOptions
{
    [Description("The pixel-wise term (official --pi): the cross-entropy of the student's per-pixel class distribution against the teacher's, summed over the batch's pixels and divided by the logits' H·W.")]
    public bool PixelWise { get; set; } = true;

    [Description("Weight λ_pi of the pixel-wise term (official --lambda-pi 10).")]
    public double PixelWeight { get; set; } = 10;

    [Description("The pair-wise term (official --pa): squared differences of the cosine similarities between all pairs of max-pooled nodes of the final feature map (final_map, the input of the 1x1 classifier).")]
    public bool PairWise { get; set; } = true;

    [Description("Weight λ_pa of the pair-wise term: the code's default 1 (--lambda-pa); the authors' run script passes 0.5.")]
    public double PairWeight { get; set; } = 1;

    [Description("Side of the pair-wise pooling window as a fraction of the feature map, so each node pools int(H·scale)×int(W·scale) positions (official --pool-scale 0.5, also the run script's value).")]
    public double PoolScale { get; set; } = StructuredKdLoss.DefaultPoolScale;

    [Description("The holistic term (official --ho): a critic learns to tell the teacher's logits from the student's, alternately with the student, which learns to raise the critic's score of its own logits.")]
    public bool Holistic { get; set; } = true;

    [Description("Weight λ_d of the student's adversarial term −mean D(S) and of the critic's loss (official --lambda-d 0.1).")]
    public double HolisticWeight { get; set; } = 0.1;

    [Description("Weight λ_gp of the critic's gradient penalty (official --lambda-gp 10). The official code also multiplies the penalty by λ_d, so its effective weight is λ_d·λ_gp = 1; KdTools follows the code.")]
    public double GradientPenaltyWeight { get; set; } = 10;

    [Description("The critic's objective: Wasserstein (WGAN-GP, the official default --adv-loss-type wgan-gp) or Hinge (the official option hinge, without gradient penalty).")]
    public AdversarialLoss AdversarialLoss { get; set; } = AdversarialLoss.Wasserstein;

    [Description("Condition the critic on the image, the paper's D(Q|I): the normalised image, average-pooled to the logits' size, is concatenated to them. Off by default: the official code judges the logits alone.")]
    public bool ConditionOnImage { get; set; }

    [Description("Channels of the critic's first convolution (official --adv-conv-dim 64); the next three have 2, 4 and 8 times as many.")]
    public int CriticWidth { get; set; } = 64;

    [Description("Base learning rate of the critic's own SGD (official --lr-d 4e-4), decayed per step by poly 0.9 over the run's steps as in the official code.")]
    public double CriticLearningRate { get; set; } = 4e-4;

    [Description("Momentum of the critic's SGD (official --momentum 0.9, which the student's SGD shares).")]
    public double CriticMomentum { get; set; } = 0.9;

    [Description("Weight decay of the critic's SGD (official --weight-decay 1e-4, which the official code applies to the student and the critic alike; the authors' run script passes 5e-4).")]
    public double CriticWeightDecay { get; set; } = 1e-4;

    public override void Validate()
    {
        Require(PixelWise || PairWise || Holistic, nameof(PixelWise), "at least one of PixelWise, PairWise and Holistic must be on (with none, train with CE)", PixelWise);
        foreach (var (name, value) in new[] { (nameof(PixelWeight), PixelWeight), (nameof(PairWeight), PairWeight),
                     (nameof(HolisticWeight), HolisticWeight), (nameof(GradientPenaltyWeight), GradientPenaltyWeight),
                     (nameof(CriticWeightDecay), CriticWeightDecay) })
            RequireNonNegative(value, name);
        Require(PoolScale is > 0 and <= 1, nameof(PoolScale), "must be in (0, 1]", PoolScale);
        Require(CriticWidth >= 2, nameof(CriticWidth), "must be at least 2 (the critic's attention layers need 8 channels)", CriticWidth);
        Require(CriticLearningRate > 0 && double.IsFinite(CriticLearningRate), nameof(CriticLearningRate), "must be a positive number", CriticLearningRate);
        Require(CriticMomentum is >= 0 and < 1, nameof(CriticMomentum), "must be in [0, 1)", CriticMomentum);
    }
}

/// <summary>
/// Structured knowledge distillation for dense prediction (Liu et al.): on top of the label cross-entropy, the student's
/// per-pixel class distributions follow the teacher's (pixel-wise), the similarities between regions of its final
/// feature map follow the teacher's (pair-wise), and a critic trained alternately with the student pulls its whole
/// score maps towards the teacher's (holistic):
/// student: CE + λ_pi·pi + λ_pa·pa − λ_d·mean D(S); critic: λ_d·(mean D(S) − mean D(T)) + λ_d·λ_gp·GP.
/// </summary>
/// <remarks>
/// The critic (<see cref="HolisticCritic"/>) is the method's extra module with its own SGD, run by the engine as an
/// <see cref="Methods.AuxiliaryUpdate"/> after each student step on the same, detached, logits — the official
/// optimize_parameters order — and reported as the term <c>critic</c>. The gradient penalty's interpolation weights
/// come from the step's generator.
/// </remarks>
[DistillationMethod("SKD", "Structured KD for segmentation: pixel-wise, pair-wise and holistic (adversarial critic) distillation.",
    Paper = "Liu, Shu, Chen, Tian, Wang, Shen. Structured Knowledge Distillation for Dense Prediction. TPAMI 2020 (CVPR 2019)",
    Tasks = [PredictionTask.Segmentation])]
internal sealed class SkdMethod(SkdOptions options) : DistillationMethod<SkdOptions>(options)
{
    /// <summary>The critic update's term and checkpoint name.</summary>
    public const string CriticTerm = "critic";

    private HolisticCritic? _critic;
    private AuxiliaryUpdate? _criticUpdate;

    public override AuxiliaryUpdate? AuxiliaryUpdate => _criticUpdate;

    public override void Initialize(MethodSetup setup)
    {
        if (Options.PairWise)
        {
            long[] student = setup.Student(FeatureNames.FinalMap), teacher = setup.Teacher(FeatureNames.FinalMap);
            if (!student[2..].SequenceEqual(teacher[2..]))
                throw new KdException(KdErrorIds.FeatureShapeMismatch, KdErrorKind.InvalidArgument,
                    $"SKD's pair-wise term compares final feature maps of one spatial size, but the student's is {student[2]}x{student[3]} " +
                    $"and the teacher's {teacher[2]}x{teacher[3]}; use networks of the same output stride", FeatureNames.FinalMap);
        }
        if (!Options.Holistic) return;
        long imageChannels = Options.ConditionOnImage
            ? setup.InputShape?[1] ?? throw new InvalidOperationException("an image-conditioned critic needs the input shape")
            : 0;
        _critic = new HolisticCritic(setup.Classes, imageChannels, Options.CriticWidth);
        Extras = _critic;
        _criticUpdate = new AuxiliaryUpdate(CriticTerm, Options.CriticLearningRate, Options.CriticMomentum, Options.CriticWeightDecay,
            () => _critic.named_parameters().Select(p => (p.name, p.parameter)), CriticLoss)
        {
            Schedule = LearningRateSchedule.PolyDecay(),
        };
    }

    public override void AddLosses(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        if (Options.PixelWise)
            terms.Add("pi", Options.PixelWeight * StructuredKdLoss.PixelWise(step.Student.Logits, teacher.Logits), nameof(Options.PixelWeight));
        if (Options.PairWise)
            terms.Add("pa", Options.PairWeight * StructuredKdLoss.PairWise(step.Student.Feature(FeatureNames.FinalMap),
                teacher.Feature(FeatureNames.FinalMap), Options.PoolScale), nameof(Options.PairWeight));
        if (_critic is not null)
            terms.Add("ho", Options.HolisticWeight * HolisticDistillationLoss.Student(_critic.Score(step.Student.Logits, Image(step))), nameof(Options.HolisticWeight));
    }

    /// <summary>The critic's loss on the step's detached logits, teacher first as in the official discriminator_backward.</summary>
    private Tensor CriticLoss(StepContext step)
    {
        var critic = _critic!;
        var image = Image(step);
        var teacherScores = step.RequireTeacher().Logits.detach();
        var studentScores = step.Student.Logits.detach();
        var onTeacher = critic.Score(teacherScores, image);
        var onStudent = critic.Score(studentScores, image);
        var loss = Options.HolisticWeight * HolisticDistillationLoss.Critic(onStudent, onTeacher, Options.AdversarialLoss);
        if (Options.AdversarialLoss != AdversarialLoss.Wasserstein) return loss;
        var alpha = HolisticDistillationLoss.MixingWeights(teacherScores, step.Random);
        step.RecordDraw("gp_alpha", alpha);
        var penalty = HolisticDistillationLoss.GradientPenalty(x => critic.Score(x, image), teacherScores, studentScores, alpha);
        return loss + Options.HolisticWeight * Options.GradientPenaltyWeight * penalty;
    }

    private Tensor? Image(StepContext step) => Options.ConditionOnImage ? step.Inputs : null;
}
