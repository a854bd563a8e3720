namespace KdTools.Core.Data;

/// <summary>
/// Cityscapes fine annotations: <c>leftImg8bit/{train,val}/&lt;city&gt;/&lt;frame&gt;_leftImg8bit.png</c> with
/// <c>gtFine/{train,val}/&lt;city&gt;/&lt;frame&gt;_gtFine_labelIds.png</c>, whose label ids are mapped to the 19
/// evaluation classes ("train ids") of cityscapesScripts; every other id (void, ego vehicle, rectification border, rail
/// track, guard rail, …) becomes the ignore label. The train split is <c>train</c>, the test split <c>val</c>. Images are
/// 2:1, so on a square canvas the lower half is padding (ignored).
/// </summary>
[Registered]
internal sealed class CityscapesFormat : DatasetFormat
{
    public const string ImageFolder = "leftImg8bit", LabelFolder = "gtFine";
    private const string ImageSuffix = "_leftImg8bit.png", LabelSuffix = "_gtFine_labelIds.png";

    /// <summary>The 19 evaluation classes in train-id order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
        "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    ];

    /// <summary>The label id of each train id (cityscapesScripts' labels.py): road is id 7, bicycle id 33.</summary>
    private static readonly int[] LabelIdOfTrainId = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33];

    public override string Name => "Cityscapes";

    public override string Description =>
        "Cityscapes: leftImg8bit/{train,val}/<city>/*_leftImg8bit.png with gtFine/…/*_gtFine_labelIds.png (mapped to the 19 train ids)";

    public override PredictionTask Task => PredictionTask.Segmentation;
    public override string Layout => $"Cityscapes' {ImageFolder}/ and {LabelFolder}/";
    public override int DetectionOrder => 40;

    public override bool Recognizes(string folder) =>
        Directory.Exists(Path.Combine(folder, ImageFolder)) && Directory.Exists(Path.Combine(folder, LabelFolder));

    public override KdDataset Read(string folder, DatasetReadOptions options)
    {
        return SegmentationFolderReader.Create("cityscapes", folder, ClassNames,
            () => SegmentationFolderReader.ReadSplit(SplitFiles(folder, "train"), options.ImageSize, LabelLookup),
            () => SegmentationFolderReader.ReadSplit(SplitFiles(folder, "val"), options.ImageSize, LabelLookup));
    }

    /// <summary>The train id of each label id; every other id is the ignore label.</summary>
    internal static IReadOnlyList<int> LabelLookup { get; } = BuildLookup();

    private static int[] BuildLookup()
    {
        var lookup = Enumerable.Repeat(LabelMaps.IgnoreIndex, 256).ToArray();
        for (int trainId = 0; trainId < LabelIdOfTrainId.Length; trainId++) lookup[LabelIdOfTrainId[trainId]] = trainId;
        return lookup;
    }

    private static List<LabelledImageFile> SplitFiles(string root, string split)
    {
        var imageSplit = Path.Combine(root, ImageFolder, split);
        if (!Directory.Exists(imageSplit))
            throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                $"split folder '{imageSplit}' is missing; Cityscapes keeps its images in {ImageFolder}/train/<city>/ and {ImageFolder}/val/<city>/",
                imageSplit);
        var files = Directory.GetFiles(imageSplit, "*" + ImageSuffix, SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(image =>
            {
                var city = Path.GetFileName(Path.GetDirectoryName(image)!);
                var frame = Path.GetFileName(image)[..^ImageSuffix.Length];
                return new LabelledImageFile(image, Path.Combine(root, LabelFolder, split, city, frame + LabelSuffix));
            })
            .ToList();
        if (files.Count == 0)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData,
                $"split folder '{imageSplit}' holds no *{ImageSuffix} images in its city subfolders", imageSplit);
        return files;
    }
}
