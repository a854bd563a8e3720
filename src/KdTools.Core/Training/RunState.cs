namespace KdTools.Core.Training;

/// <summary>Where a run is and what it has seen: everything a resumable checkpoint must carry besides tensors.</summary>
internal sealed class RunState
{
    public string Stage { get; set; } = "";
    public int Epoch { get; set; }
    public int NextBatch { get; set; }
    public EpochAccumulator Accumulator { get; set; } = new();
    public List<EpochRecord> History { get; set; } = [];
    public double BestTop1 { get; set; } = double.NegativeInfinity;
    public double BestTop5 { get; set; } = double.NaN;
    public int BestEpoch { get; set; }
    public double LastTop1 { get; set; } = double.NaN;
    public double LastTop5 { get; set; } = double.NaN;
    public string? LastCheckpoint { get; set; }

    public void StartStage(string stage)
    {
        Stage = stage;
        Epoch = 0;
        NextBatch = 0;
        Accumulator = new EpochAccumulator();
    }

    /// <summary>The state as it must be saved for a resume at (epoch, batch) of the current stage.</summary>
    public RunState Snapshot(int epoch, int batch) => new()
    {
        Stage = Stage,
        Epoch = epoch,
        NextBatch = batch,
        Accumulator = batch == 0 ? new EpochAccumulator() : Accumulator,
        History = History,
        BestTop1 = BestTop1,
        BestTop5 = BestTop5,
        BestEpoch = BestEpoch,
        LastTop1 = LastTop1,
        LastTop5 = LastTop5,
    };
}
