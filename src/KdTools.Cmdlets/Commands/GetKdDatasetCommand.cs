using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Data;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// Loads a dataset: a built-in synthetic set (classification or segmentation), or a CIFAR, CSV, image, shard, VOC or
/// Cityscapes folder.
/// </summary>
/// <remarks>
/// <para>Without -Path, Get-KdDataset generates the built-in synthetic dataset: seeded colour images that a small CNN
/// learns and a linear model does not, generated in well under a second. It is what the examples and tests use; a
/// bigger network gains on it, so there is something to distill. With -Task Segmentation it generates synthetic
/// scenes instead: objects of several classes (each a shape with its own colour and texture) on a noisy background,
/// occluding each other, labelled per pixel (class 0 is the background, object outlines are ignored), learnable so that
/// a small segmentation network clearly beats chance within a minute of CPU.</para>
/// <para>With -Path it reads a folder and detects its layout (-Format forces one):</para>
/// <list type="bullet">
/// <item><description>CIFAR-10/100 binary: data_batch_1..5.bin and test_batch.bin, or train.bin and test.bin (the
/// official *-binary.tar.gz archives, extracted; the folder or its parent).</description></item>
/// <item><description>CSV: train.csv and test.csv, one image per row: the 0-based label, then the pixels 0..255
/// channel-major (-Channels and -ImageSize give the shape; a header row is optional).</description></item>
/// <item><description>Image folder (torchvision's ImageFolder): train/CLASS/*.png and test/CLASS/... (or val/), PNG,
/// JPEG, BMP, TGA or GIF, read as RGB and resized to -ImageSize. Classes are the train subfolders in ordinal
/// order.</description></item>
/// <item><description>Shard folder: train.kdshard and test.kdshard, written once by ConvertTo-KdShard from any
/// classification dataset; images stay at the size they were written at.</description></item>
/// <item><description>Pascal VOC 2012 segmentation (JPEGImages/, SegmentationClass/, ImageSets/Segmentation/ with
/// train.txt and val.txt; the folder, VOC2012/ or VOCdevkit/VOC2012/) and Cityscapes (leftImg8bit/ and gtFine/, its 19
/// evaluation classes): a label map per image, each image scaled onto a square canvas of -ImageSize, the padding
/// ignored; val is the test split.</description></item>
/// </list>
/// <para>The labels say the task of every run on the dataset: a segmentation dataset takes segmentation networks
/// (pspnet_*, deeplabv3_*) and the methods that distill them (CE, PixelKD, CWD, SKD); a classifier or a classification
/// method given one fails before training.</para>
/// <para>The dataset is held in memory as 8-bit pixels, or, for image folders and shard folders larger than 1 GiB
/// decoded (or with -Stream), streamed: images stay on disk and each batch is read and decoded by parallel workers a
/// few batches ahead of training, so memory stays bounded (4 batches of pixels). A streamed dataset trains
/// bit-identically to the same dataset in memory: the same shuffling, augmentation and statistics. Opening a streamed
/// image folder decodes its training images once for their statistics; a shard needs no decoding, so convert a large
/// folder once with ConvertTo-KdShard. Training and measuring cmdlets take the dataset with -Dataset (they also take
/// the folder path directly). Images are normalised per channel: CIFAR with its published statistics, other datasets
/// with their training split's.</para>
/// </remarks>
/// <example>
/// <code>
/// Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// </code>
/// <para>A small synthetic dataset: 4 classes of 16x16 RGB images, 128 to train on and 64 to test. The same -Seed
/// (1 by default) always gives the same images.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdDataset -Synthetic -Task Segmentation -Classes 4 -TrainCount 64 -TestCount 16 -ImageSize 32
/// </code>
/// <para>Synthetic segmentation scenes: a background and 3 object classes, 32x32 images with a label per pixel.</para>
/// </example>
/// <example>
/// <code>
/// New-Item -ItemType Directory tiny-csv | Out-Null
/// $rows = 0..31 | ForEach-Object { "$($_ % 2)," + ((1..192 | ForEach-Object { Get-Random -Maximum 256 }) -join ',') }
/// $rows | Set-Content tiny-csv/train.csv
/// $rows | Set-Content tiny-csv/test.csv
/// Get-KdDataset -Path ./tiny-csv -ImageSize 8
/// </code>
/// <para>Writes a two-class CSV dataset of 8x8 RGB images (the label, then 3 x 64 pixels per row, one channel after
/// the other) and reads it back.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 | ConvertTo-KdShard ./tiny-shard -Force
/// $streamed = Get-KdDataset -Path ./tiny-shard -Stream
/// $streamed | Select-Object Name, TrainCount, Streamed
/// </code>
/// <para>Packs a small dataset into a shard folder once, then opens it streamed: training reads its images from disk
/// batch by batch.</para>
/// </example>
/// <example>
/// <code>
/// # Needs: CIFAR-10's binary archive (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz) extracted here
/// $cifar = Get-KdDataset -Path ./cifar-10-batches-bin
/// New-Teacher resnet56 -Dataset $cifar -Epochs 240
/// </code>
/// <para>Loads CIFAR-10 (50,000 training and 10,000 test images, 32x32) and trains a teacher on it with the CIFAR KD
/// benchmark's schedule.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "KdDataset", DefaultParameterSetName = SyntheticSet)]
[OutputType(typeof(KdDatasetInfo))]
public sealed class GetKdDatasetCommand : KdCmdlet
{
    private const string SyntheticSet = "Synthetic";
    private const string PathSet = "Path";

    /// <summary>Generate the built-in synthetic dataset. This is also what happens without -Path.</summary>
    [Parameter(ParameterSetName = SyntheticSet)]
    public SwitchParameter Synthetic { get; set; }

    /// <summary>
    /// What the synthetic dataset is for: Classification (one class per image) or Segmentation (a class per pixel, for
    /// the segmentation networks and methods).
    /// </summary>
    [Parameter(ParameterSetName = SyntheticSet)]
    public PredictionTask Task { get; set; } = PredictionTask.Classification;

    /// <summary>
    /// Number of classes of the synthetic dataset: 2 to 1000 for classification; 2 to 11 for segmentation, the
    /// background included.
    /// </summary>
    /// <value>10 for classification, 6 for segmentation</value>
    [Parameter(ParameterSetName = SyntheticSet)]
    [ValidateRange(2, 1000)]
    public int Classes { get; set; } = 10;

    /// <summary>
    /// Number of training images: generated (synthetic, spread evenly over the classes), or, with -Path, the first
    /// images of each class kept from the folder's training split (class-balanced, in file order; the test split stays
    /// whole), for learning from few labels. Classification datasets held in memory.
    /// </summary>
    /// <value>2000 for synthetic classification, 512 for segmentation; with -Path, every training image</value>
    [Parameter(ParameterSetName = SyntheticSet)]
    [Parameter(ParameterSetName = PathSet)]
    [ValidateRange(1, 1_000_000)]
    public int TrainCount { get; set; } = 2000;

    /// <summary>Number of synthetic test images, drawn independently of the training images.</summary>
    /// <value>500 for classification, 128 for segmentation</value>
    [Parameter(ParameterSetName = SyntheticSet)]
    [ValidateRange(1, 1_000_000)]
    public int TestCount { get; set; } = 500;

    /// <summary>
    /// Side in pixels of the square images (8 to 256): generated (synthetic), stored in each CSV row, or resized to
    /// (image folders). CIFAR is always 32. Small images train much faster. Synthetic segmentation scenes need at least 16.
    /// </summary>
    /// <value>32 for classification, 64 for segmentation</value>
    [Parameter(ParameterSetName = SyntheticSet)]
    [Parameter(ParameterSetName = PathSet)]
    [ValidateRange(8, 256)]
    public int ImageSize { get; set; } = 32;

    /// <summary>Seed of the synthetic dataset: the same seed and sizes give the same images.</summary>
    [Parameter(ParameterSetName = SyntheticSet)]
    public long Seed { get; set; } = 1;

    /// <summary>
    /// The dataset folder: CIFAR-10/100 binary (cifar-10-batches-bin, cifar-100-binary, or their parent), a folder with
    /// train.csv and test.csv, an image folder with train/ and test/ (or val/), or a Pascal VOC 2012 or Cityscapes
    /// folder. Relative to the current location.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    /// <summary>
    /// The folder's layout, one of the registered dataset formats, in detection order: Shard, Cifar, Csv, Voc,
    /// Cityscapes, ImageFolder (Tab completes them). Auto detects it, trying them in that order: train.kdshard and
    /// test.kdshard, then CIFAR files, then train.csv and test.csv, then Pascal VOC's and Cityscapes' folders, then
    /// train/ and test/ image folders; name one to get an error that says what is missing for that layout.
    /// </summary>
    [Parameter(ParameterSetName = PathSet)]
    [ArgumentCompleter(typeof(DatasetFormatCompleter))]
    public string Format { get; set; } = DatasetReader.DetectFormat;

    /// <summary>Channels per image in CSV rows: 1 for grey, 3 for RGB (image folders are always read as RGB).</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateRange(1, 4)]
    public int Channels { get; set; } = 3;

    /// <summary>
    /// Stream the images from disk instead of holding them in memory (image folders and shard folders only; other
    /// layouts are an error). -Stream:$false always reads into memory. Left out, a folder streams when its decoded
    /// images would take more than 1 GiB.
    /// </summary>
    /// <value>left out: streamed when the decoded images exceed 1 GiB, else in memory</value>
    [Parameter(ParameterSetName = PathSet)]
    public SwitchParameter Stream { get; set; }

    protected override void ProcessRecord()
    {
        var loading = !MyInvocation.BoundParameters.ContainsKey(nameof(Stream)) ? DatasetLoading.Auto
            : Stream ? DatasetLoading.Streamed : DatasetLoading.InMemory;
        var dataset = ParameterSetName == PathSet
            ? Invoke(() => DatasetReader.Read(ResolvePath(Path), Format, ImageSize, Channels, loading,
                MyInvocation.BoundParameters.ContainsKey(nameof(TrainCount)) ? TrainCount : null), Path)
            : Task == PredictionTask.Segmentation ? Invoke(() => SyntheticSegmentation.Create(SegmentationOptions()))
            : Invoke(() => SyntheticDataset.Create(new SyntheticDatasetOptions
            {
                Classes = Classes,
                TrainCount = TrainCount,
                TestCount = TestCount,
                ImageSize = ImageSize,
                Seed = Seed,
            }));
        WriteObject(new KdDatasetInfo(dataset));
    }

    /// <summary>The scenes' settings: the parameters given, the segmentation defaults for the others.</summary>
    private SyntheticSegmentationOptions SegmentationOptions()
    {
        var defaults = new SyntheticSegmentationOptions();
        bool Given(string name) => MyInvocation.BoundParameters.ContainsKey(name);
        return defaults with
        {
            Classes = Given(nameof(Classes)) ? Classes : defaults.Classes,
            TrainCount = Given(nameof(TrainCount)) ? TrainCount : defaults.TrainCount,
            TestCount = Given(nameof(TestCount)) ? TestCount : defaults.TestCount,
            ImageSize = Given(nameof(ImageSize)) ? ImageSize : defaults.ImageSize,
            Seed = Seed,
        };
    }
}
