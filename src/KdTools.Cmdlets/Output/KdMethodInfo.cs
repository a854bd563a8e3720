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

    /// <summary>
    /// A lightweight network (MobileNet, ShuffleNet): recipes with a LightweightLearningRate (RepDistiller's 0.01)
    /// train it at that rate. Not a column of the default table; Format-List and Where-Object show it.
    /// </summary>
    public bool Lightweight { get; init; }
}
