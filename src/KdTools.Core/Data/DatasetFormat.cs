namespace KdTools.Core.Data;

/// <summary>What a dataset folder is read with: the side images are stored at, the channels of CSV rows, and whether the
/// images are held in memory or streamed.</summary>
/// <param name="ImageSize">CSV: the side of the square images in the rows; image files: the side they are resized to (CIFAR is always 32).</param>
/// <param name="Channels">CSV only: channels per image.</param>
/// <param name="Loading">In memory, streamed, or chosen by size (formats that cannot stream read into memory).</param>
/// <param name="Streaming">Workers and prefetch of a streamed dataset; null for <see cref="StreamingOptions.Default"/>.</param>
public sealed record DatasetReadOptions(int ImageSize = 32, int Channels = 3, DatasetLoading Loading = DatasetLoading.Auto,
    StreamingOptions? Streaming = null);

/// <summary>
/// One on-disk dataset layout: its name, the task its labels describe, how to recognise a folder in that layout and how
/// to read it. Every non-abstract subclass with a public parameterless constructor in KdTools.Core is registered by
/// <see cref="DatasetFormatRegistry"/>, so adding a layout is one file.
/// </summary>
public abstract class DatasetFormat
{
    /// <summary>Registry key, matched case-insensitively (<c>Cifar</c>, <c>Voc</c>).</summary>
    public abstract string Name { get; }

    /// <summary>One line for listings and completion.</summary>
    public abstract string Description { get; }

    public abstract PredictionTask Task { get; }

    /// <summary>
    /// What a folder in this layout holds, phrased to complete "expected …" in the error for a folder no format
    /// recognises, for example <c>train.csv and test.csv</c>.
    /// </summary>
    public abstract string Layout { get; }

    /// <summary>
    /// Position in detection: formats are tried in ascending order and the first that recognises a folder reads it, so
    /// generic layouts (an image folder is any folder with train/ and test/) come after specific ones.
    /// </summary>
    public abstract int DetectionOrder { get; }

    /// <summary>Whether <paramref name="folder"/>, which exists, looks like this layout (a cheap check of names only).</summary>
    public abstract bool Recognizes(string folder);

    /// <summary>
    /// Whether <see cref="Read"/> can leave the images on disk (<see cref="DatasetLoading.Streamed"/>); a format that
    /// cannot always reads into memory, and asking it to stream is an error.
    /// </summary>
    public virtual bool CanStream => false;

    /// <summary>Reads both splits of <paramref name="folder"/>: into memory, or streamed as <see cref="DatasetReadOptions.Loading"/> asks.</summary>
    public abstract KdDataset Read(string folder, DatasetReadOptions options);

    public override string ToString() => Name;
}
