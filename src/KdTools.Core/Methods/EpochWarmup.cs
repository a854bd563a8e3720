namespace KdTools.Core.Methods;

/// <summary>
/// mdistiller's linear loss warm-up, <c>min(epoch / warm-up, 1)</c> with 1-based epochs, given in epochs of its
/// 240-epoch CIFAR schedule and scaled to the length of the run, so a shortened run warms up over the same fraction.
/// </summary>
internal static class EpochWarmup
{
    /// <summary>mdistiller's CIFAR-100 run length (<c>SOLVER.EPOCHS</c>), the scale of the warm-up options.</summary>
    public const int ReferenceEpochs = 240;

    /// <summary>The factor of this step's epoch; 1 when <paramref name="warmupEpochs"/> is 0.</summary>
    public static double Factor(StepContext step, double warmupEpochs)
    {
        if (warmupEpochs <= 0) return 1;
        double warmup = warmupEpochs * step.Epochs / ReferenceEpochs;
        return Math.Min((step.Epoch + 1) / warmup, 1.0);
    }

    /// <summary>The description the warm-up options share.</summary>
    public const string Description =
        "Epochs of the linear warm-up of the method's term, min(epoch / warm-up, 1), counted in mdistiller's 240-epoch schedule and scaled to the run's length (20 of 240 = the first 1/12 of any run); 0 = none.";
}
