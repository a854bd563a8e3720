namespace KdTools.Core.Evaluation;

/// <summary>
/// A model's scores on a test split: per exit for classification (<see cref="Exits"/>: "final", each extra exit and
/// "ensemble"), or the segmentation scores; with the model's speed when it was timed.
/// </summary>
public sealed record MeasurementResult
{
    public required PredictionTask Task { get; init; }

    /// <summary>Test images scored.</summary>
    public required int Count { get; init; }

    /// <summary>Classification: each exit's scores, "final" first; empty for segmentation.</summary>
    public IReadOnlyDictionary<string, EvaluationResult> Exits { get; init; } = new Dictionary<string, EvaluationResult>();

    /// <summary>Segmentation: mean IoU, pixel accuracy, per-class IoU, loss, agreement; null for classification.</summary>
    public SegmentationScores? Segmentation { get; init; }

    /// <summary>Latency and throughput; null when not timed.</summary>
    public LatencyResult? Speed { get; init; }

    /// <summary>The final classifier's scores (classification).</summary>
    public EvaluationResult? Final => Exits.TryGetValue(ExitNames.Final, out var final) ? final : null;
}
