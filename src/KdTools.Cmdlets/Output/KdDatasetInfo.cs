using System.Management.Automation;
using KdTools.Core.Data;

namespace KdTools;

/// <summary>A dataset, held in memory or streamed from disk; what Get-KdDataset emits and -Dataset takes.</summary>
public sealed class KdDatasetInfo
{
    internal KdDatasetInfo(KdDataset dataset) => Dataset = dataset;

    public string Name => Dataset.Name;

    /// <summary>Classification (a class per image) or Segmentation (a class per pixel).</summary>
    public string Task => Dataset.Task.ToString();
    public int Classes => Dataset.Classes;
    public int TrainCount => Dataset.Train.Count;
    public int TestCount => Dataset.Test.Count;
    public int Channels => Dataset.Channels;
    public int Height => Dataset.Height;
    public int Width => Dataset.Width;
    public string Source => Dataset.Source;

    /// <summary>Whether the images are read from disk batch by batch (an image or shard folder) rather than held in memory.</summary>
    public bool Streamed => Dataset.IsStreamed;

    [Hidden]
    public KdDataset Dataset { get; }

    public override string ToString() =>
        $"{Name}: {Classes} classes, {TrainCount} train / {TestCount} test, {Channels}x{Height}x{Width}" + (Streamed ? ", streamed" : "");
}
