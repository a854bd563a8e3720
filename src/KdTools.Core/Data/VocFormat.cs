namespace KdTools.Core.Data;

/// <summary>
/// Pascal VOC 2012 semantic segmentation: <c>JPEGImages/&lt;id&gt;.jpg</c>, <c>SegmentationClass/&lt;id&gt;.png</c>
/// (palette PNGs whose indices are the classes 0..20, 255 on object boundaries and unlabelled pixels) and the split lists
/// <c>ImageSets/Segmentation/train.txt</c> and <c>val.txt</c> (one id per line), read from the folder itself or from its
/// <c>VOC2012</c> or <c>VOCdevkit/VOC2012</c> subfolder. Only listed images are read. The train split is <c>train</c>
/// and the test split <c>val</c>, as in the papers (the official test labels are not public).
/// </summary>
[Registered]
internal sealed class VocFormat : DatasetFormat
{
    public const string ImageFolder = "JPEGImages", LabelFolder = "SegmentationClass";
    private static readonly string ListFolder = Path.Combine("ImageSets", "Segmentation");
    private static readonly string[] Subfolders = ["VOC2012", Path.Combine("VOCdevkit", "VOC2012")];

    /// <summary>The 21 classes, background first, in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
        "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    public override string Name => "Voc";

    public override string Description =>
        "Pascal VOC 2012 segmentation: JPEGImages/*.jpg, SegmentationClass/*.png (palette indices, 255 = ignore), ImageSets/Segmentation/{train,val}.txt";

    public override PredictionTask Task => PredictionTask.Segmentation;
    public override string Layout => $"Pascal VOC's {ImageFolder}/, {LabelFolder}/ and {ListFolder}/";
    public override int DetectionOrder => 30;

    public override bool Recognizes(string folder) => Locate(folder) is not null;

    public override KdDataset Read(string folder, DatasetReadOptions options)
    {
        var root = Locate(folder) ?? throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
            $"'{folder}' is not a Pascal VOC folder: it needs {ImageFolder}/ and {LabelFolder}/ (directly, or in a VOC2012 " +
            "or VOCdevkit/VOC2012 subfolder)", folder);
        return SegmentationFolderReader.Create("voc2012", root, ClassNames,
            () => SegmentationFolderReader.ReadSplit(ListedFiles(root, "train"), options.ImageSize, LabelLookup),
            () => SegmentationFolderReader.ReadSplit(ListedFiles(root, "val"), options.ImageSize, LabelLookup));
    }

    /// <summary>What each stored palette index means: classes 0..20 and the ignore label 255; anything else is invalid.</summary>
    internal static IReadOnlyList<int> LabelLookup { get; } = Enumerable.Range(0, 256)
        .Select(value => value < ClassNames.Count || value == LabelMaps.IgnoreIndex ? value : SegmentationFolderReader.InvalidLabel)
        .ToArray();

    private static string? Locate(string folder) =>
        Subfolders.Select(sub => Path.Combine(folder, sub)).Prepend(folder)
            .FirstOrDefault(candidate => Directory.Exists(Path.Combine(candidate, ImageFolder)) && Directory.Exists(Path.Combine(candidate, LabelFolder)));

    private static List<LabelledImageFile> ListedFiles(string root, string split)
    {
        var list = Path.Combine(root, ListFolder, split + ".txt");
        if (!File.Exists(list))
            throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                $"split list '{list}' is missing; a VOC folder lists its segmentation images in {ListFolder}/train.txt and val.txt, one id per line",
                list);
        var files = File.ReadLines(list).Select(line => line.Trim()).Where(id => id.Length > 0)
            .Select(id => new LabelledImageFile(Path.Combine(root, ImageFolder, id + ".jpg"), Path.Combine(root, LabelFolder, id + ".png")))
            .ToList();
        if (files.Count == 0)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidData, $"split list '{list}' names no image", list);
        return files;
    }
}
