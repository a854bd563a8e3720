namespace KdTools;

/// <summary>
/// One image's prediction (Get-KdPrediction): the most probable class, its probability and the top-k, flat, so that
/// <c>Export-Csv</c> writes a predictions file.
/// </summary>
public sealed class KdPrediction
{
    /// <summary>The image file; empty for an image of a dataset split (see <see cref="Index"/>).</summary>
    public string Path { get; init; } = "";

    /// <summary>Position of the image in the input: the n-th file, or the index in the dataset's test split (0-based).</summary>
    public int Index { get; init; }

    /// <summary>Name of the predicted class (its index as text when the class names are unknown).</summary>
    public string Class { get; init; } = "";

    /// <summary>Index of the predicted class.</summary>
    public int ClassIndex { get; init; }

    /// <summary>Softmax probability of the predicted class.</summary>
    public double Probability { get; init; }

    /// <summary>The most probable classes with their probabilities, most probable first: "cat=0.8123;dog=0.1042".</summary>
    public string Top { get; init; } = "";

    /// <summary>The true class of a dataset image; empty for image files.</summary>
    public string Label { get; init; } = "";

    /// <summary>Architecture of the model that predicted.</summary>
    public string Model { get; init; } = "";

    public override string ToString() =>
        $"{(Path.Length > 0 ? System.IO.Path.GetFileName(Path) : $"#{Index}")}: {Class} ({Probability:P1})";
}
