namespace KdTools;

/// <summary>
/// One image segmented by Get-KdPrediction -OutputFolder: the label PNG written for it and how much of the image each
/// class covers, flat, so that <c>Export-Csv</c> writes an index of the label maps.
/// </summary>
public sealed class KdLabelMap
{
    /// <summary>The image file.</summary>
    public string Path { get; init; } = "";

    /// <summary>Position of the image in the input: the n-th file (0-based).</summary>
    public int Index { get; init; }

    /// <summary>The label map written: an 8-bit palette PNG of the image's size whose pixel values are class indices (VOC colours).</summary>
    public string LabelPath { get; init; } = "";

    public int Width { get; init; }
    public int Height { get; init; }

    /// <summary>The classes present in the label map with the fraction of pixels each covers, largest first: "background=0.7812;car=0.2188".</summary>
    public string Classes { get; init; } = "";

    /// <summary>Architecture of the model that predicted.</summary>
    public string Model { get; init; } = "";

    public override string ToString() => $"{System.IO.Path.GetFileName(Path)} → {System.IO.Path.GetFileName(LabelPath)}: {Classes}";
}
