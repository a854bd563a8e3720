using System.Globalization;
using KdTools.Core.Training;

namespace KdTools.Core.Sweeps;

/// <summary>
/// The results a ledger keeps of a completed run: what ran and how well, with the same names as the run object's
/// properties, numbers in round-trip form.
/// </summary>
internal static class SweepResults
{
    public static readonly IReadOnlyList<string> Columns =
    [
        "Method", "Student", "Teacher", "Recipe", "Epochs", "BatchSize", "LearningRate", "Seed", "Top1", "Top5", "BestTop1",
        "BestTop5", "BestEpoch", "MeanIoU", "TrainLoss", "LossTerms", "Options", "Seconds",
    ];

    /// <summary>The ledger cells of a finished run (<paramref name="teacher"/>: its architecture, or empty).</summary>
    public static IReadOnlyDictionary<string, string> Of(DistillationResult result, string teacher)
    {
        var last = result.TrainEpochs.LastOrDefault();
        return new Dictionary<string, string>
        {
            ["Method"] = result.Method,
            ["Student"] = result.Network.Architecture,
            ["Teacher"] = teacher,
            ["Recipe"] = result.Recipe,
            ["Epochs"] = Text(result.EpochsCompleted),
            ["BatchSize"] = Text(result.Settings.BatchSize),
            ["LearningRate"] = Text(result.Settings.LearningRate),
            ["Seed"] = Text(result.Settings.Seed),
            ["Top1"] = Text(result.Top1),
            ["Top5"] = Text(result.Top5),
            ["BestTop1"] = Text(result.BestTop1),
            ["BestTop5"] = Text(result.BestTop5),
            ["BestEpoch"] = Text(result.BestEpoch),
            ["MeanIoU"] = Text(result.MeanIoU),
            ["TrainLoss"] = Text(last?.TrainLoss ?? double.NaN),
            ["LossTerms"] = last is null ? "" : string.Join(";", last.Terms.Select(t => $"{t.Key}={Text(t.Value)}")),
            ["Options"] = result.MethodOptions,
            ["Seconds"] = Text(Math.Round(result.Duration.TotalSeconds, 2)),
        };
    }

    /// <summary>Culture-invariant text; doubles round-trip, so equal text means equal bits.</summary>
    internal static string Text(IFormattable value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => value.ToString(null, CultureInfo.InvariantCulture),
    };
}
