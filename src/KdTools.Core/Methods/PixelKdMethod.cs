using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>The weight of SKD's pixel-wise term (official --lambda-pi 10).</summary>
internal sealed class PixelKdOptions : MethodOptions
{
    [Description("Weight λ_pi of the pixel-wise term (SKD's official --lambda-pi 10).")]
    public double Weight { get; set; } = 10;

    public override void Validate() =>
        RequireNonNegative(Weight, nameof(Weight));
}

/// <summary>
/// Pixel-wise distillation alone, the baseline of the SKD paper's ablation: CE + λ_pi·pi with SKD's pixel-wise term
/// (<see cref="StructuredKdLoss.PixelWise"/>). The same objective as <c>SKD</c> with <c>PairWise</c> and
/// <c>Holistic</c> off, under its own name so that a sweep's rows say which baseline they are.
/// </summary>
[DistillationMethod("PixelKD", "Pixel-wise distillation for segmentation: the teacher's per-pixel class distributions (SKD's pixel-wise term alone).",
    Paper = "Liu, Shu, Chen, Tian, Wang, Shen. Structured Knowledge Distillation for Dense Prediction. TPAMI 2020 (CVPR 2019)",
    Tasks = [PredictionTask.Segmentation])]
internal sealed class PixelKdMethod(PixelKdOptions options) : DistillationMethod<PixelKdOptions>(options)
{
    public override void AddLosses(StepContext step, LossTerms terms) =>
        terms.Add("pi", Options.Weight * StructuredKdLoss.PixelWise(step.Student.Logits, step.RequireTeacher().Logits), nameof(Options.Weight));
}
