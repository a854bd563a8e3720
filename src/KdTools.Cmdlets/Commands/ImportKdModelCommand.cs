using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Checkpoints;
using KdTools.Core.Export;
using KdTools.Core.Models;

namespace KdTools.Cmdlets.Commands;

/// <summary>Loads a model from a KdTools checkpoint, a state dict that PyTorch saved, or an ONNX file.</summary>
/// <remarks>
/// <para>An .onnx file (Save-KdModel student.onnx) is run by ONNX Runtime: Measure-Student and Get-KdPrediction take it
/// like any model, with Runtime OnnxRuntime and their latency measured in ONNX Runtime; it cannot be trained, fine-tuned
/// or used as a teacher (KdTools.Model.InferenceOnly). A KdTools export says what it holds; an ONNX file from elsewhere
/// needs -Mean and -Std (and -Classes when its output width is not fixed). A truncated or damaged file is
/// KdTools.Checkpoint.Corrupt naming it.</para>
/// <para>A KdTools checkpoint (Save-KdModel, -CheckpointDirectory) names its architecture, class count and input
/// normalisation. A state dict written by PyTorch with safetensors.torch.save_file(model.state_dict(), path), under the
/// reference key names (RepDistiller's models, whose attribute names KdTools' architectures keep), does not: name it
/// with -Architecture and -Classes, and give the normalisation it was trained with as -Mean and -Std (Get-KdPrediction
/// needs it to prepare image files).</para>
/// <para>Loading is strict: every missing, unexpected or mis-shaped key is listed in one KdTools.Checkpoint.Mismatch
/// error. Float64 and other floating-point tensors are converted; BatchNorm's num_batches_tracked counters may be
/// absent, as PyTorch itself allows. -SkipClassifier leaves the final classifier out, for fine-tuning to another class
/// count; the verbose stream lists the entries it skipped.</para>
/// <para>Paths come from -Path or the pipeline (Get-ChildItem); a file that cannot be loaded is a non-terminating error
/// and the others still load. An unknown -Architecture stops the cmdlet before any file is read.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 1 | Save-KdModel ./teacher.safetensors
/// $teacher = Import-KdModel ./teacher.safetensors
/// $teacher | Measure-Student -Dataset $data -NoTiming
/// </code>
/// <para>Loads a KdTools checkpoint, which says what it holds, and measures it.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 1 | Save-KdModel ./four-classes.safetensors
/// Import-KdModel ./four-classes.safetensors -Classes 6 -SkipClassifier -Role Student -Verbose
/// </code>
/// <para>Takes the backbone of a 4-class network for a 6-class task; the verbose stream names the classifier entries
/// it left out.</para>
/// </example>
/// <example>
/// <code>
/// # Needs: a CIFAR-100 resnet56 saved by PyTorch: safetensors.torch.save_file(model.state_dict(), 'resnet56.safetensors')
/// $teacher = Import-KdModel ./resnet56.safetensors -Architecture resnet56 -Classes 100 -Mean 0.5071, 0.4865, 0.4409 -Std 0.2673, 0.2564, 0.2762
/// </code>
/// <para>Loads a teacher trained in PyTorch, with the normalisation it was trained with.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 1 | Save-KdModel ./model.onnx
/// Import-KdModel ./model.onnx | Measure-Student -Dataset $data | Select-Object Model, Runtime, Top1, LatencyMs
/// </code>
/// <para>Exports a model to ONNX and measures it as ONNX Runtime runs it.</para>
/// </example>
[Cmdlet(VerbsData.Import, "KdModel")]
[OutputType(typeof(KdModel))]
public sealed class ImportKdModelCommand : KdCmdlet
{
    /// <summary>The safetensors or .onnx file(s) to load; wildcards are expanded. Takes FullName from Get-ChildItem.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string[] Path { get; set; } = [];

    /// <summary>The architecture the file holds (Get-KdArchitecture). Required for a PyTorch state dict; checked against
    /// a KdTools checkpoint's.</summary>
    /// <value>none: a KdTools checkpoint names it.</value>
    [Parameter]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string? Architecture { get; set; }

    /// <summary>The class count. Required for a PyTorch state dict; checked against a KdTools checkpoint's, unless
    /// -SkipClassifier (then it is the new class count).</summary>
    /// <value>none: a KdTools checkpoint records it.</value>
    [Parameter]
    [ValidateRange(2, 100_000)]
    public int? Classes { get; set; }

    /// <summary>Leave the final classifier (and a KdTools checkpoint's extra exits) out: the network keeps a freshly
    /// initialised classifier for -Classes classes, for fine-tuning.</summary>
    [Parameter]
    public SwitchParameter SkipClassifier { get; set; }

    /// <summary>Teacher or Student: how the model is labelled in later output.</summary>
    [Parameter]
    [ValidateSet("Teacher", "Student")]
    public string Role { get; set; } = "Teacher";

    /// <summary>Per-channel mean of the inputs the network was trained with, in [0, 1] units (for example CIFAR-100's
    /// 0.5071,0.4865,0.4409); overrides what a KdTools checkpoint records. Give -Std with it.</summary>
    /// <value>none: what a KdTools checkpoint records.</value>
    [Parameter]
    public float[]? Mean { get; set; }

    /// <summary>Per-channel standard deviation matching -Mean.</summary>
    /// <value>none: what a KdTools checkpoint records.</value>
    [Parameter]
    public float[]? Std { get; set; }

    /// <summary>Seed of the initial weights of a skipped classifier.</summary>
    [Parameter]
    public long Seed { get; set; } = 1;

    protected override void BeginProcessing()
    {
        if (Architecture is not null)
            Architecture = Invoke(() => ArchitectureRegistry.Get(Architecture), Architecture).Name;
        if ((Mean is null) != (Std is null) || (Mean is not null && (Mean.Length != Std!.Length || Mean.Length == 0)))
            Fail(KdErrorIds.ModelNormalizationInvalid, KdErrorKind.InvalidArgument,
                "-Mean and -Std go together, with one value per input channel each", Mean);
        if (Std is not null && Std.Any(s => !(s > 0)))
            Fail(KdErrorIds.ModelNormalizationInvalid, KdErrorKind.InvalidArgument,
                $"every -Std value must be positive, got {string.Join(", ", Std)}", Std);
    }

    protected override void ProcessRecord()
    {
        foreach (var file in ResolveFiles())
        {
            if (ModelLoading.IsOnnx(file))
            {
                if (TryInvoke(() => LoadOnnx(file), file, out var onnx))
                {
                    WriteVerbose($"Loaded {onnx.Architecture} ({onnx.Classes} classes) from the ONNX file '{file}'; ONNX Runtime runs it.");
                    WriteObject(onnx);
                }
                continue;
            }
            var request = new ModelImportRequest
            {
                Path = file,
                Architecture = Architecture,
                Classes = Classes,
                SkipClassifier = SkipClassifier,
                Seed = Seed,
            };
            if (!TryInvoke(() => ModelImport.Load(request), file, out var imported)) continue;
            Report(imported, file);
            WriteObject(ModelLoading.FromImport(imported, Role, file, Mean, Std));
        }
    }

    private KdModel LoadOnnx(string file)
    {
        if (SkipClassifier)
            throw new KdException(KdErrorIds.ModelInferenceOnly, KdErrorKind.InvalidArgument,
                $"'{file}' is an ONNX model, which ONNX Runtime only runs: it cannot be fine-tuned, so -SkipClassifier does not apply; " +
                "import its safetensors checkpoint instead", file);
        var network = OnnxRuntimeNet.Load(new OnnxLoadRequest
        {
            Path = file,
            Classes = Classes,
            Normalization = Mean is null ? null : new KdTools.Core.Data.InputNormalization(Mean, Std!),
        });
        if (Architecture is not null && network.Metadata.TryGetValue(CheckpointMetadata.Architecture, out var saved)
            && !saved.Equals(Architecture, StringComparison.OrdinalIgnoreCase))
        {
            network.Dispose();
            throw new KdException(KdErrorIds.CheckpointMismatch, KdErrorKind.InvalidArgument, $"'{file}' holds a {saved}, not a {Architecture}", file);
        }
        return ModelLoading.FromOnnx(network, Role);
    }

    /// <summary>The files the -Path values name; a value that names nothing is a non-terminating error.</summary>
    private IEnumerable<string> ResolveFiles()
    {
        foreach (var path in Path)
        {
            List<string> files;
            try
            {
                files = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _).ToList();
            }
            catch (ItemNotFoundException)
            {
                WriteKdError(KdErrorIds.CheckpointMissing, KdErrorKind.ObjectNotFound,
                    $"checkpoint '{ResolvePath(path)}' does not exist; check the path", path);
                continue;
            }
            foreach (var file in files) yield return file;
        }
    }

    private void Report(ImportedModel imported, string file)
    {
        var model = imported.Model;
        var source = imported.IsKdToolsCheckpoint ? "KdTools checkpoint" : "PyTorch state dict";
        WriteVerbose($"Loaded {model.Architecture} ({model.NumClasses} classes) from the {source} '{file}'.");
        if (imported.SkippedKeys.Count > 0)
            WriteVerbose($"Skipped {imported.SkippedKeys.Count} entr{(imported.SkippedKeys.Count == 1 ? "y" : "ies")} of the file: " +
                string.Join(", ", imported.SkippedKeys) + ".");
        var counters = imported.InitializedKeys.Where(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        var initialised = imported.InitializedKeys.Except(counters).ToList();
        if (initialised.Count > 0)
            WriteVerbose($"Kept the initial values of {string.Join(", ", initialised)} (the classifier for {model.NumClasses} classes, seed {Seed.ToString(CultureInfo.InvariantCulture)}).");
        if (counters.Count > 0)
            WriteVerbose($"The file has no BatchNorm num_batches_tracked counters ({counters.Count}); they stay 0, as in PyTorch.");
        if (!imported.IsKdToolsCheckpoint && Mean is null)
            WriteVerbose("The file does not record the input normalisation the network was trained with; pass -Mean and -Std to predict from image files.");
    }
}
