namespace KdTools.Core.Training;

/// <summary>Running sums of one epoch. Part of resumable state: a run cancelled mid-epoch saves and restores it.</summary>
internal sealed class EpochAccumulator
{
    public int Batches { get; set; }
    /// <summary>Predictions scored (samples for classification).</summary>
    public long Samples { get; set; }
    public long Correct { get; set; }
    public double Loss { get; set; }
    public Dictionary<string, double> Terms { get; set; } = new();
    public double Seconds { get; set; }

    /// <param name="hits">Right predictions and predictions scored; null when the student did not run (a pre-stage that does not train it).</param>
    public void Add((long Correct, long Scored)? hits, double loss, IEnumerable<KeyValuePair<string, double>> terms)
    {
        Batches++;
        if (hits is { } scored)
        {
            Samples += scored.Scored;
            Correct += scored.Correct;
        }
        Loss += loss;
        foreach (var (name, value) in terms) Terms[name] = Terms.GetValueOrDefault(name) + value;
    }

    public double MeanLoss => Batches == 0 ? double.NaN : Loss / Batches;
    public double Accuracy => Samples == 0 ? double.NaN : (double)Correct / Samples;
    public IReadOnlyDictionary<string, double> MeanTerms => Terms.ToDictionary(t => t.Key, t => t.Value / Math.Max(1, Batches));
}
