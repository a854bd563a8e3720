namespace KdTools.Core.Reporting;

/// <summary>A per-epoch quantity a learning-curve chart can draw.</summary>
public enum CurveMetric
{
    /// <summary>Test top-1 accuracy, in percent.</summary>
    TestTop1,

    /// <summary>Mean training loss (every weighted term summed).</summary>
    TrainLoss,

    /// <summary>Mean test cross-entropy.</summary>
    TestLoss,

    /// <summary>Top-1 accuracy on the (augmented) training batches, in percent.</summary>
    TrainTop1,

    /// <summary>Learning rate of the epoch's first step.</summary>
    LearningRate,
}

/// <summary>One epoch of a run as a chart reads it. NaN values are not drawn (pre-stages have no test accuracy).</summary>
/// <param name="Stage">The main stage (<see cref="Training.Trainer.MainStage"/>) or a pre-stage's name.</param>
/// <param name="Epoch">1-based epoch within its stage.</param>
/// <param name="TestTop1">Fraction in [0, 1].</param>
/// <param name="TrainTop1">Fraction in [0, 1].</param>
public sealed record CurveEpoch(string Stage, int Epoch, double TestTop1, double TrainLoss, double TestLoss, double TrainTop1,
    double LearningRate)
{
    /// <summary>The value <paramref name="metric"/> draws (accuracies in percent).</summary>
    public double Value(CurveMetric metric) => metric switch
    {
        CurveMetric.TestTop1 => TestTop1 * 100,
        CurveMetric.TrainLoss => TrainLoss,
        CurveMetric.TestLoss => TestLoss,
        CurveMetric.TrainTop1 => TrainTop1 * 100,
        CurveMetric.LearningRate => LearningRate,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };
}

/// <summary>One run's curves: its legend label and its epochs in the order they ran (pre-stages first).</summary>
public sealed record CurveRun(string Label, IReadOnlyList<CurveEpoch> Epochs);

/// <summary>A bar of an accuracy chart (a measured student) or a reference line across it (a teacher).</summary>
/// <param name="Label">Text under the bar, or in the legend for a line.</param>
/// <param name="Top1">Fraction in [0, 1].</param>
public sealed record AccuracyEntry(string Label, double Top1);
