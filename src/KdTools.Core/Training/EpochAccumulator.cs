namespace KdTools.Core.Training;

/// <summary>Running sums of one epoch. Part of resumable state: a run cancelled mid-epoch saves and restores it.</summary>
internal sealed class EpochAccumulator
{
    public int Batches { get; set; }
    /// <summary>Samples whose predictions were scored (train top-1).</summary>
    public long Samples { get; set; }
    public long Correct { get; set; }
    public double Loss { get; set; }
    public Dictionary<string, double> Terms { get; set; } = new();
    public double Seconds { get; set; }

    /// <param name="correct">Null when the student did not run (a pre-stage that does not train it): nothing to score.</param>
    public void Add(int samples, long? correct, double loss, IEnumerable<KeyValuePair<string, double>> terms)
    {
        Batches++;
        if (correct is { } scored)
        {
            Samples += samples;
            Correct += scored;
        }
        Loss += loss;
        foreach (var (name, value) in terms) Terms[name] = Terms.GetValueOrDefault(name) + value;
    }

    public double MeanLoss => Batches == 0 ? double.NaN : Loss / Batches;
    public double Top1 => Samples == 0 ? double.NaN : (double)Correct / Samples;
    public IReadOnlyDictionary<string, double> MeanTerms => Terms.ToDictionary(t => t.Key, t => t.Value / Math.Max(1, Batches));
}
