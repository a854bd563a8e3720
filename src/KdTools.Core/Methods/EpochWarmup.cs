namespace KdTools.Core.Methods;

/// <summary>
/// mdistiller's linear loss warm-up, <c>min(epoch / warm-up, 1)</c> with 1-based epochs, given in epochs of its
/// 240-epoch CIFAR schedule and scaled to the length of the run, so a shortened run warms up over the same fraction.
/// </summary>
internal static class EpochWarmup
{
    /// <summary>mdistiller's CIFAR-100 run length (<c>SOLVER.EPOCHS</c>), the scale of the warm-up options.</summary>
    public const int ReferenceEpochs = 240;

    /// <summary>The factor of this step; 1 when <paramref name="warmupEpochs"/> is 0.</summary>
    /// <param name="perStep">
    /// False: mdistiller's factor, one per epoch (1-based), so a run shorter than its warm-up's reach is at full
    /// weight from its first step. True: the same line followed step by step, <c>min(done / warm-up, 1)</c> with
    /// <c>done</c> the epochs completed after this step, so a short run still starts near 0.
    /// </param>
    public static double Factor(StepContext step, double warmupEpochs, bool perStep = false)
    {
        if (warmupEpochs <= 0) return 1;
        double warmup = warmupEpochs * step.Epochs / ReferenceEpochs;
        double done = perStep ? step.Epoch + (step.Batch + 1.0) / Math.Max(1, step.Batches) : step.Epoch + 1;
        return Math.Min(done / warmup, 1.0);
    }

    /// <summary>The description the per-step options share.</summary>
    public const string PerStepDescription =
        "Follow the warm-up step by step rather than mdistiller's one factor per epoch; empty = per step in the Default recipe (a quick run would otherwise be at full weight from its first step), per epoch in the paper recipes.";

    /// <summary>The description the warm-up options share.</summary>
    public const string Description =
        "Epochs of the linear warm-up of the method's term, min(epoch / warm-up, 1), counted in mdistiller's 240-epoch schedule and scaled to the run's length (20 of 240 = the first 1/12 of any run); 0 = none.";
}
