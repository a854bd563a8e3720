namespace KdTools.Core.Data;

/// <summary>Conventions of segmentation label maps.</summary>
public static class LabelMaps
{
    /// <summary>
    /// The label of pixels that count in no loss and no metric: object boundaries in Pascal VOC, unlabelled classes in
    /// Cityscapes, the padding around resized images and random crops (the <c>ignore_index</c> of the references).
    /// </summary>
    public const int IgnoreIndex = 255;
}
