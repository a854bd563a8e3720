using KdTools.Core.Data;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Evaluation;

/// <summary>A model to score on a dataset's test split, optionally against a teacher and with its speed timed.</summary>
public sealed record MeasurementRequest
{
    public required ClassifierNet Model { get; init; }

    /// <summary>The dataset whose test split is scored; its task picks the scores (top-1 per exit, or mean IoU).</summary>
    public required KdDataset Dataset { get; init; }

    /// <summary>The network to compare predictions with (TeacherAgreement); null = NaN agreement.</summary>
    public ClassifierNet? Teacher { get; init; }

    /// <summary>Images per forward pass, for scoring and timing (speed and memory, not the numbers).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Time the model's latency and throughput (a few seconds).</summary>
    public bool Timing { get; init; } = true;

    /// <summary>"cpu", "cuda" or "cuda:N"; the networks are moved there.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Receives warnings (a network given images of another size than it was trained on).</summary>
    public ILogger? Logger { get; init; }
}
