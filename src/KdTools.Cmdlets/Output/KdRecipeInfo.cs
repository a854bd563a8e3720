namespace KdTools;

/// <summary>A named training recipe with every setting it gives (Get-KdRecipe).</summary>
public sealed class KdRecipeInfo
{
    public string Name { get; init; } = "";

    /// <summary>
    /// The task whose reference the recipe follows (Classification, Segmentation). Default has one row per task: a run
    /// with no -Recipe uses its dataset's task's.
    /// </summary>
    public string Task { get; init; } = "";
    public int Epochs { get; init; }
    public double LearningRate { get; init; }

    /// <summary>The rate for a lightweight student (MobileNet, ShuffleNet); NaN = the same as LearningRate.</summary>
    public double LightweightLearningRate { get; init; } = double.NaN;

    public double Momentum { get; init; }
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    public int BatchSize { get; init; }

    /// <summary>The schedule with its milestones as epochs of the recipe's length, "×0.1 at 150,180,210".</summary>
    public string Schedule { get; init; } = "";

    /// <summary>The milestones as fractions of the epochs (what a shortened run keeps), "62.5%,75%,87.5%".</summary>
    public string Milestones { get; init; } = "";

    public string Augmentation { get; init; } = "";

    /// <summary>Where the values come from.</summary>
    public string Source { get; init; } = "";

    public override string ToString() => $"{Name}: {Epochs} epochs, lr {LearningRate}, {Schedule}";
}
