namespace KdTools.Core.Methods;

/// <summary>No options: the baseline trains on hard labels alone.</summary>
internal sealed class CrossEntropyOptions : MethodOptions;

/// <summary>
/// The no-distillation baseline: cross-entropy on the labels only (per pixel for segmentation). Trains teachers, and
/// gives every sweep its "student from scratch" row with the same columns as the distilled runs.
/// </summary>
[DistillationMethod("CE", "Baseline without a teacher: cross-entropy on the hard labels only.", NeedsTeacher = false,
    Tasks = [PredictionTask.Classification, PredictionTask.Segmentation])]
internal sealed class CrossEntropyMethod(CrossEntropyOptions options) : DistillationMethod<CrossEntropyOptions>(options)
{
    public override void AddLosses(StepContext step, LossTerms terms)
    {
    }
}
