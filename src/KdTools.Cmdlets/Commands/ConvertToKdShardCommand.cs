using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Data;

namespace KdTools.Cmdlets.Commands;

/// <summary>Packs a classification dataset into a shard folder that Get-KdDataset streams without decoding.</summary>
/// <remarks>
/// <para>Writes both splits of the dataset as train.kdshard and test.kdshard in the folder given by -Path (created
/// when missing): a small header (shape, classes and their names, the normalisation statistics), the labels, a CRC-32
/// per image, then every image as raw 8-bit pixels at the dataset's size. Build a shard once from a large image folder
/// (read with Get-KdDataset -Stream, so it never has to fit in memory) and train from it: reading a shard costs no
/// decoding, and a run on it gives bit-identical results to the same dataset in memory. A shard is as large as the
/// decoded images (Tiny-ImageNet at 64 pixels: 1.35 GB).</para>
/// <para>Get-KdDataset -Path on the folder detects the shards; it streams them when they exceed 1 GiB or with
/// -Stream. A truncated or damaged shard is reported as KdTools.Dataset.FileCorrupt, naming the file and image.</para>
/// <para>Each file is written atomically: it appears only once complete, and a failed write leaves an earlier file as
/// it was. Overwriting existing shards needs -Force; -WhatIf shows what would be written. A dataset that cannot be
/// written (segmentation labels, a folder that refuses writes) is a non-terminating error, so other datasets in the
/// pipeline are still converted.</para>
/// </remarks>
/// <returns>The two files written (System.IO.FileInfo): train.kdshard, then test.kdshard.</returns>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $data | ConvertTo-KdShard ./shards/synthetic | Select-Object Name, Length
/// Get-KdDataset -Path ./shards/synthetic -Stream
/// </code>
/// <para>Packs a synthetic dataset into ./shards/synthetic (two files, their sizes shown) and opens it streamed.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdDataset -Synthetic -Classes 2 -TrainCount 8 -TestCount 4 -ImageSize 16 | ConvertTo-KdShard ./two-classes
/// Get-KdDataset -Synthetic -Classes 2 -TrainCount 32 -TestCount 8 -ImageSize 16 | ConvertTo-KdShard ./two-classes -Force
/// Get-KdDataset -Path ./two-classes -Stream:$false | Select-Object Name, Classes, TrainCount, Streamed
/// </code>
/// <para>-Force overwrites shards written before; -Stream:$false reads a shard folder into memory instead (in one pass,
/// without decoding).</para>
/// </example>
/// <example>
/// <code>
/// # Needs: Tiny-ImageNet (http://cs231n.stanford.edu/tiny-imagenet-200.zip) rearranged as train/CLASS and val/CLASS
/// Get-KdDataset -Path ./tiny-imagenet-200 -ImageSize 64 -Stream | ConvertTo-KdShard ./tiny-shard
/// New-Teacher resnet18 -Dataset ./tiny-shard -Epochs 30
/// </code>
/// <para>Converts a dataset larger than memory once, decoding each image a single time, then trains from the shards.</para>
/// </example>
[Cmdlet(VerbsData.ConvertTo, "KdShard", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ConvertToKdShardCommand : KdCmdlet
{
    /// <summary>
    /// The dataset to pack: from Get-KdDataset (in memory or streamed), or the path of a dataset folder. Classification
    /// datasets only.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>The shard folder to write train.kdshard and test.kdshard into, relative to the current location; created when missing.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    /// <summary>Overwrite shard files that already exist in the folder.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var data = ResolveDataset(Dataset).Dataset;
        var folder = ResolvePath(Path);
        var files = new[] { "train", "test" }.Select(split => ShardFile.PathOf(folder, split)).ToList();
        if (!ShouldProcess(folder, $"Write {data.Name} ({data.Train.Count} train and {data.Test.Count} test images) as shards")) return;
        if (!Force && files.FirstOrDefault(File.Exists) is { } existing)
        {
            WriteKdError(KdErrorIds.DatasetExists, KdErrorKind.InvalidOperation,
                $"'{existing}' already exists; pass -Force to overwrite the shards in '{folder}'", existing);
            return;
        }
        if (!TryInvoke(() =>
            {
                ShardFile.WriteDataset(folder, data, Cancellation);
                return true;
            }, folder, out _)) return;
        foreach (var file in files) WriteObject(new FileInfo(file));
    }
}
