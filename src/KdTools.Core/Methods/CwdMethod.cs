using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>CWD's defaults are the paper's segmentation setting on logits (Shu et al., ICCV 2021, Sec. 4.2).</summary>
internal sealed class CwdOptions : MethodOptions
{
    [Description("Temperature τ of each channel's spatial softmax; the loss is scaled by τ² (paper: 4 for segmentation).")]
    public double Temperature { get; set; } = ChannelWiseDistillationLoss.DefaultTemperature;

    [Description("Weight of the channel-wise term on the logits (paper: 3 for segmentation).")]
    public double Weight { get; set; } = ChannelWiseDistillationLoss.DefaultWeight;

    public override void Validate()
    {
        Require(Temperature > 0 && double.IsFinite(Temperature), nameof(Temperature), "must be a positive number", Temperature);
        RequireNonNegative(Weight, nameof(Weight));
    }
}

/// <summary>
/// Channel-wise distillation (Shu et al.): each class channel of the logits becomes a distribution over the image's
/// positions, and the student's follow the teacher's by KL divergence — where each class is, rather than what each
/// pixel is. loss = CE + Weight·τ²·KL (<see cref="ChannelWiseDistillationLoss"/>).
/// </summary>
[DistillationMethod("CWD", "Channel-wise distillation for segmentation: each class channel's spatial distribution of the logits, KL.",
    Paper = "Shu, Liu, Gao, Yan, Shen. Channel-wise Knowledge Distillation for Dense Prediction. ICCV 2021",
    Tasks = [PredictionTask.Segmentation])]
internal sealed class CwdMethod(CwdOptions options) : DistillationMethod<CwdOptions>(options)
{
    public override void AddLosses(StepContext step, LossTerms terms) =>
        terms.Add("cwd", Options.Weight * ChannelWiseDistillationLoss.Compute(step.Student.Logits, step.RequireTeacher().Logits, Options.Temperature), nameof(Options.Weight));
}
