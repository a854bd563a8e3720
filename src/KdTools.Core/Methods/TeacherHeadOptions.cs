using System.ComponentModel;

namespace KdTools.Core.Methods;

/// <summary>
/// Options of the methods that give the teacher auxiliary heads of their own (MHKD, TOFD) and fit them in a first stage
/// on the frozen teacher before the student learns from them.
/// </summary>
public abstract class TeacherHeadOptions : MethodOptions
{
    [Description("Epochs of the first stage, which trains the teacher's heads with cross-entropy while the teacher stays frozen.")]
    public int HeadEpochs { get; set; } = 30;

    [Description("Learning rate of the teacher-head stage (DIH's head fine-tuning: 0.1).")]
    public double HeadLearningRate { get; set; } = 0.1;

    public override void Validate()
    {
        Require(HeadEpochs >= 1, nameof(HeadEpochs), "must be ≥ 1 (the student learns from the teacher's heads, so they must be trained)", HeadEpochs);
        Require(HeadLearningRate > 0 && double.IsFinite(HeadLearningRate), nameof(HeadLearningRate), "must be a finite number > 0", HeadLearningRate);
    }
}
