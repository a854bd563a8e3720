using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Data;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Loads a dataset into memory: the built-in synthetic set (-Synthetic), or from -Path a CIFAR-10/100 binary
/// folder, a folder with train.csv and test.csv (one image per row), or an image folder (train/ and test/ holding one
/// subfolder of images per class). -Format forces the layout instead of detecting it.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "KdDataset", DefaultParameterSetName = SyntheticSet)]
[OutputType(typeof(KdDatasetInfo))]
public sealed class GetKdDatasetCommand : KdCmdlet
{
    private const string SyntheticSet = "Synthetic";
    private const string PathSet = "Path";

    [Parameter(ParameterSetName = SyntheticSet)]
    public SwitchParameter Synthetic { get; set; }

    [Parameter(ParameterSetName = SyntheticSet)]
    [ValidateRange(2, 1000)]
    public int Classes { get; set; } = 10;

    [Parameter(ParameterSetName = SyntheticSet)]
    [ValidateRange(1, 1_000_000)]
    public int TrainCount { get; set; } = 2000;

    [Parameter(ParameterSetName = SyntheticSet)]
    [ValidateRange(1, 1_000_000)]
    public int TestCount { get; set; } = 500;

    /// <summary>Side of the square images: generated (-Synthetic), stored in CSV rows, or resized to (image folders). CIFAR is always 32.</summary>
    [Parameter(ParameterSetName = SyntheticSet)]
    [Parameter(ParameterSetName = PathSet)]
    [ValidateRange(8, 256)]
    public int ImageSize { get; set; } = 32;

    [Parameter(ParameterSetName = SyntheticSet)]
    public long Seed { get; set; } = 1;

    /// <summary>A CIFAR-10 or CIFAR-100 binary folder (cifar-10-batches-bin, cifar-100-binary, or their parent).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    /// <summary>
    /// The folder's layout, one of the registered dataset formats (Get-KdDataset -Format &lt;Tab&gt; lists them); Auto, or
    /// leaving it out, detects it (CIFAR files, then train.csv/test.csv, …, then train/ and test/ folders).
    /// </summary>
    [Parameter(ParameterSetName = PathSet)]
    [ArgumentCompleter(typeof(DatasetFormatCompleter))]
    public string Format { get; set; } = DatasetReader.DetectFormat;

    /// <summary>Channels per image in CSV rows (image folders are always read as RGB).</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateRange(1, 4)]
    public int Channels { get; set; } = 3;

    protected override void ProcessRecord()
    {
        var dataset = ParameterSetName == PathSet
            ? Invoke(() => DatasetReader.Read(ResolvePath(Path), Format, ImageSize, Channels), Path)
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
}
