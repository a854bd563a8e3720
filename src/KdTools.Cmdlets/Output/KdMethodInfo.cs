namespace KdTools;

/// <summary>A registered distillation method, as Get-KdMethod lists it.</summary>
public sealed class KdMethodInfo
{
    public string Name { get; init; } = "";
    public bool NeedsTeacher { get; init; }
    public string Summary { get; init; } = "";

    /// <summary>Options with defaults, "Alpha=0.9;Temperature=4".</summary>
    public string Options { get; init; } = "";

    public string Paper { get; init; } = "";

    public override string ToString() => $"{Name}: {Summary}";
}

/// <summary>One option of one method (Get-KdMethod -Option).</summary>
public sealed class KdMethodOptionInfo
{
    public string Method { get; init; } = "";
    public string Name { get; init; } = "";
    public string Type { get; init; } = "";
    public string Default { get; init; } = "";
    public string Description { get; init; } = "";
}

/// <summary>A registered architecture (Get-KdArchitecture).</summary>
public sealed class KdArchitectureInfo
{
    public string Name { get; init; } = "";
    public string Family { get; init; } = "";
    public int HeadPositions { get; init; }
    public string Description { get; init; } = "";

    /// <summary>A MobileNet or ShuffleNet student: the reference recipes train it at a lower learning rate (Get-KdRecipe's LightweightLearningRate).</summary>
    public bool Lightweight { get; init; }
}
