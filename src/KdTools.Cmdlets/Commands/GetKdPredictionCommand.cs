using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// Classifies images with a trained model (the class, its probability and the most probable classes), or segments
/// them with a segmentation model into label PNGs.
/// </summary>
/// <remarks>
/// <para>Takes image files or folders (-Path, or FullName from Get-ChildItem in the pipeline), or a dataset's test split
/// (-Dataset). Writes one flat KdPrediction per image: the predicted class (name and index), its probability and the
/// -Top most probable classes as one compact string, so Export-Csv writes a predictions file. Rows for a dataset also
/// carry the true Label.</para>
/// <para>Image files are decoded and resized exactly as Get-KdDataset reads an image folder (RGB, antialiased bilinear
/// to -ImageSize) and normalised with the statistics the model was trained with. A folder stands for the images in it
/// (PNG, JPEG, BMP, TGA, GIF), in name order. Class names come from -ClassName, else from the dataset, else from an
/// ONNX file's class_names (Save-KdModel -ClassNames), else they are the class indices.</para>
/// <para>An image that cannot be read is a non-terminating error; the others are still classified. A model without
/// recorded normalisation (a PyTorch state dict imported without -Mean and -Std) or a dataset of another class count
/// stops the cmdlet before any image is read.</para>
/// <para>A segmentation model (pspnet_*, deeplabv3_*) segments image files instead: -OutputFolder is required, and each
/// image gets a label map there, an 8-bit palette PNG of the image's own size named after the image, whose pixel values
/// are the class indices and whose colours are Pascal VOC's (as VOC's SegmentationClass files). It writes one KdLabelMap
/// per image: the label file and the share of the image each class covers. Its scores on a labelled test split come
/// from Measure-Student.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $model = New-Teacher resnet8 -Dataset $data -Epochs 1
/// Get-KdPrediction -Model $model -Dataset $data | Where-Object { $_.Class -ne $_.Label } | Select-Object -First 5
/// </code>
/// <para>Lists test images the model gets wrong, with what it predicted and how sure it was.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $model = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $png = [Convert]::FromBase64String('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAIElEQVR42mNkYPgvwPCDeMTCIPCDgYEENKphVMPQ0QAAivz6JdiBPUoAAAAASUVORK5CYII=')
/// New-Item -ItemType Directory ./photos | Out-Null
/// 1..3 | ForEach-Object { [IO.File]::WriteAllBytes((Join-Path $PWD "photos/$_.png"), $png) }
/// Get-ChildItem ./photos -Filter *.png | Get-KdPrediction -Model $model -ImageSize 16 -ClassName cat, dog, bird, fish -Top 2 |
///     Export-Csv predictions.csv
/// </code>
/// <para>Classifies the images of a folder (here three copies of a small test image stand in for your photos), naming
/// the classes, and writes one CSV row per image.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Task Segmentation -Classes 3 -TrainCount 16 -TestCount 4 -ImageSize 32
/// $model = New-Teacher pspnet_resnet18_w8 -Dataset $data -Epochs 1
/// $png = [Convert]::FromBase64String('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAIElEQVR42mNkYPgvwPCDeMTCIPCDgYEENKphVMPQ0QAAivz6JdiBPUoAAAAASUVORK5CYII=')
/// New-Item -ItemType Directory ./scenes | Out-Null
/// 1..2 | ForEach-Object { [IO.File]::WriteAllBytes((Join-Path $PWD "scenes/$_.png"), $png) }
/// Get-KdPrediction -Model $model -Path ./scenes -OutputFolder ./labels | Format-Table Path, LabelPath, Classes
/// </code>
/// <para>Segments the images of a folder with a segmentation model: ./labels/1.png and ./labels/2.png are their label
/// maps, in VOC's palette.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "KdPrediction", DefaultParameterSetName = PathSet)]
[OutputType(typeof(KdPrediction), typeof(KdLabelMap))]
public sealed class GetKdPredictionCommand : KdCmdlet
{
    private const string PathSet = "Path";
    private const string DatasetSet = "Dataset";
    private const int DefaultImageSize = 32;

    private readonly List<string> _pending = [];
    private KdModel _model = null!;
    private KdDataset? _data;
    private PredictionSettings _settings = null!;
    private IReadOnlyList<string>? _classNames;
    private int _filesSeen;

    /// <summary>The model: a model (New-Teacher, Import-KdModel…), a run (its student) or a checkpoint path.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public KdModelArgument Model { get; set; } = null!;

    /// <summary>Image files or folders; wildcards are expanded. Takes FullName from Get-ChildItem.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string[] Path { get; set; } = [];

    /// <summary>Classify this dataset's test split instead (Get-KdDataset output or a dataset folder); rows then carry the true Label.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DatasetSet)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>
    /// Side of the square images the files are resized to: the size the model was trained on. A model KdTools trained
    /// or saved records it; another size than the recorded one gives a warning.
    /// </summary>
    /// <value>the model's recorded training size, else 32</value>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateRange(8, 1024)]
    public int ImageSize { get; set; } = DefaultImageSize;

    /// <summary>How many of the most probable classes the Top column lists.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int Top { get; set; } = 5;

    /// <summary>Names of the model's classes, in class-index order; default: the dataset's names with -Dataset, else the indices.</summary>
    /// <value>the dataset's class names with -Dataset, else the class indices.</value>
    [Parameter]
    public string[]? ClassName { get; set; }

    /// <summary>
    /// Where a segmentation model writes its label maps (created if missing): one palette PNG per image, named after the
    /// image. Required for a segmentation model, refused for a classifier. Relative to the current location.
    /// </summary>
    /// <value>none (classifiers write rows only)</value>
    [Parameter(ParameterSetName = PathSet)]
    public string? OutputFolder { get; set; }

    /// <summary>Images per forward pass (speed and memory, not the results).</summary>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Where to run the model: cpu, cuda or cuda:N.</summary>
    [Parameter]
    public string Device { get; set; } = "cpu";

    protected override void BeginProcessing()
    {
        _model = ResolveModel(Model, "Student");
        var device = Invoke(() => Devices.Resolve(Device), Device);
        _data = ParameterSetName == DatasetSet ? ResolveDataset(Dataset).Dataset : null;
        if (_data is not null && _data.Classes != _model.Classes)
            Fail(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"{_model.Architecture} has {_model.Classes} classes but dataset '{_data.Name}' has {_data.Classes}; " +
                "classify the dataset it was trained for", _model);
        if (ClassName is not null && ClassName.Length != _model.Classes)
            Fail(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"-ClassName gives {ClassName.Length} names but {_model.Architecture} has {_model.Classes} classes", ClassName);
        _classNames = ClassName ?? _data?.ClassNames ?? ExportedClassNames(_model);
        RequireTaskOutput();

        // The model's own statistics; a dataset's only stand in for a model that records none.
        var normalization = ModelNormalization.Of(_model) ?? (_data is null ? null : (_data.Mean, _data.Std));
        if (normalization is not { } statistics)
        {
            Fail(KdErrorIds.ModelNormalizationUnknown, KdErrorKind.InvalidArgument,
                $"{_model.Architecture} does not record the input normalisation it was trained with, so its inputs cannot be prepared", _model);
            return;
        }
        var size = _model.Network.InputSize;
        if (ParameterSetName == PathSet && !MyInvocation.BoundParameters.ContainsKey(nameof(ImageSize)) && size is { } trained && trained.Height == trained.Width)
            ImageSize = trained.Height;
        var (height, width, source) = _data is null ? (ImageSize, ImageSize, "image files resized to -ImageSize") : (_data.Height, _data.Width, $"dataset '{_data.Name}'");
        if (InputChecks.SizeWarning(_model.Network, height, width, source, "model") is { } warning) WriteWarning(warning);
        _model.Network.to(device);
        _settings = new PredictionSettings
        {
            Model = _model.Network,
            Mean = statistics.Mean,
            Std = statistics.Std,
            Device = device,
            BatchSize = BatchSize,
            Top = Top,
        };
    }

    /// <summary>Segmentation models write label maps of image files; classifiers write rows.</summary>
    private void RequireTaskOutput()
    {
        bool segments = _model.Network.Task == PredictionTask.Segmentation;
        if (segments && ParameterSetName == DatasetSet)
            Fail(KdErrorIds.TaskMismatch, KdErrorKind.InvalidArgument,
                $"{_model.Architecture} is a segmentation model: it writes label maps of image files (-Path with -OutputFolder); " +
                "measure it on a dataset's test split with Measure-Student", _model);
        else if (segments && OutputFolder is null)
            Fail(KdErrorIds.TaskMismatch, KdErrorKind.InvalidArgument,
                $"{_model.Architecture} is a segmentation model: give -OutputFolder, the folder its label PNGs are written to", _model);
        else if (!segments && OutputFolder is not null)
            Fail(KdErrorIds.TaskMismatch, KdErrorKind.InvalidArgument,
                $"{_model.Architecture} classifies whole images and has no label maps to write; leave out -OutputFolder", _model);
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == DatasetSet)
        {
            foreach (var prediction in Invoke(() => Predictor.PredictSet(_settings, _data!.Test, Cancellation).ToList()))
                WriteObject(Row(prediction, null));
            return;
        }
        _pending.AddRange(ResolveImages());
        // Piped files arrive one at a time: classify them in full batches as they come.
        while (_pending.Count >= BatchSize) Classify(BatchSize);
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == PathSet && _pending.Count > 0) Classify(_pending.Count);
    }

    private void Classify(int count)
    {
        var files = _pending.Take(count).ToList();
        _pending.RemoveRange(0, count);
        int first = _filesSeen;
        _filesSeen += count;
        if (OutputFolder is not null)
        {
            Segment(files, first);
            return;
        }
        var outcomes = Invoke(() => Predictor.PredictFiles(_settings, files, ImageSize, Cancellation).ToList());
        foreach (var outcome in outcomes)
        {
            if (outcome.Error is { } error)
                WriteError(ErrorRecords.From(error, outcome.File));
            else
                WriteObject(Row(outcome.Prediction!, first));
        }
    }

    private void Segment(List<string> files, int first)
    {
        var folder = ResolvePath(OutputFolder!);
        foreach (var outcome in Invoke(() => LabelMapPredictor.PredictFiles(_settings, files, ImageSize, folder, Cancellation).ToList()))
        {
            if (outcome.Error is { } error)
            {
                WriteError(ErrorRecords.From(error, outcome.File));
                continue;
            }
            var map = outcome.Prediction!;
            WriteObject(new KdLabelMap
            {
                Path = map.File,
                Index = first + map.Index,
                LabelPath = map.LabelFile,
                Width = map.Width,
                Height = map.Height,
                Classes = string.Join(";", map.ClassShares.Select((share, c) => (share, c)).Where(x => x.share > 0)
                    .OrderByDescending(x => x.share).ThenBy(x => x.c)
                    .Select(x => $"{ClassLabel(x.c)}={x.share.ToString("0.####", CultureInfo.InvariantCulture)}")),
                Model = _model.Architecture,
            });
        }
    }

    private KdPrediction Row(Prediction prediction, int? firstIndex) => new()
    {
        Path = prediction.File ?? "",
        Index = (firstIndex ?? 0) + prediction.Index,
        Class = ClassLabel(prediction.Classes[0]),
        ClassIndex = prediction.Classes[0],
        Probability = prediction.Probabilities[0],
        Top = string.Join(";", prediction.Classes.Zip(prediction.Probabilities,
            (c, p) => $"{ClassLabel(c)}={p.ToString("0.####", CultureInfo.InvariantCulture)}")),
        Label = prediction.Label is { } label ? ClassLabel((int)label) : "",
        Model = _model.Architecture,
    };

    /// <summary>The class names an ONNX export records (Save-KdModel -ClassNames), when they fit the model.</summary>
    private static IReadOnlyList<string>? ExportedClassNames(KdModel model)
    {
        if (model.Network is not KdTools.Core.Export.OnnxRuntimeNet onnx
            || !onnx.Metadata.TryGetValue(KdTools.Core.Export.OnnxMetadata.ClassNames, out var text)) return null;
        try
        {
            var names = System.Text.Json.JsonSerializer.Deserialize<string[]>(text);
            return names?.Length == model.Classes ? names : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private string ClassLabel(int index) => _classNames?[index] ?? index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The image files the -Path values name (a folder: its images in name order); a value naming nothing is a
    /// non-terminating error.</summary>
    private IEnumerable<string> ResolveImages()
    {
        foreach (var path in Path)
        {
            List<string> resolved;
            try
            {
                resolved = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _).ToList();
            }
            catch (ItemNotFoundException)
            {
                WriteKdError(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound, $"image '{ResolvePath(path)}' does not exist", path);
                continue;
            }
            foreach (var item in resolved)
            {
                if (!Directory.Exists(item))
                {
                    yield return item;
                    continue;
                }
                var images = Directory.GetFiles(item)
                    .Where(f => ImageFolderReader.ImageExtensions.Contains(System.IO.Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal).ToList();
                if (images.Count == 0)
                    WriteKdError(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                        $"folder '{item}' holds no images ({string.Join(", ", ImageFolderReader.ImageExtensions)})", item);
                foreach (var image in images) yield return image;
            }
        }
    }
}
