namespace KdTools.Core;

/// <summary>What a dataset's labels and a network's logits describe; a run's dataset and networks must agree on it.</summary>
public enum PredictionTask
{
    /// <summary>One class per image: int64 labels [N], logits [B, classes].</summary>
    Classification,

    /// <summary>
    /// One class per pixel: uint8 label maps [N, H, W] with <see cref="Data.LabelMaps.IgnoreIndex"/> (255) for pixels
    /// that count nowhere, logits [B, classes, h, w] at a fraction of the input size.
    /// </summary>
    Segmentation,
}
