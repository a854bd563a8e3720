using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Checkpoints;
using KdTools.Core.Export;
using KdTools.Core.Models;

namespace KdTools.Cmdlets.Commands;

/// <summary>Saves a model, or a run's student, as a safetensors checkpoint that Import-KdModel and PyTorch read, or as an
/// ONNX model that ONNX Runtime runs.</summary>
/// <remarks>
/// <para>A path ending in .onnx (or -Format Onnx) writes the network in eval form as an ONNX model (opset 17):
/// BatchNorm folded into the convolutions, one input "input" [N, C, H, W] float32 with a dynamic batch dimension N, and
/// the output "logits" ([N, classes]; a segmentation network's [N, classes, H, W] at the input size). H and W are the
/// image size the model was trained on (-ImageSize when it records none). Its metadata_props hold the architecture,
/// classes, class names (-ClassNames), input size, mean and std, KdTools version, the training method, dataset, epochs,
/// test top-1 and, for a run, its seed. -IncludeNormalization puts the normalisation into the graph, so it takes raw
/// [0, 1] pixels. A model with exits (Add-IntermediateHead, BYOT) exports its final exit; -AllExits adds every exit as
/// an output logits_{exit}. ONNX Runtime runs the file in .NET (Microsoft.ML.OnnxRuntime), Python (onnxruntime),
/// browsers and phones; Import-KdModel loads it back for Measure-Student and Get-KdPrediction.</para>
/// <para>The file's tensors are the network's plain state dict under PyTorch's names (no prefix; a multi-exit model's
/// extra exits under heads.*), so Python's model.load_state_dict(safetensors.torch.load_file(path)) reads it, with what
/// KdTools knows about the model (architecture, classes, method, dataset, epochs, recipe, test top-1, input
/// normalisation and size) as metadata. Import-KdModel, Measure-Student and
/// Invoke-Distillation -Teacher load it back; loading never runs code from the file.</para>
/// <para>The file is written atomically: it appears only once complete, its folder is created when missing, and a
/// failed save leaves any earlier file as it was. Overwriting needs -Force; -WhatIf shows what would be written. A
/// model that cannot be saved (the file exists, the folder refuses writes, a file stands where the folder should be)
/// is a non-terminating KdTools.Checkpoint.* error naming the target, so the other models in the pipeline are still
/// saved. The saved model's Path property is set to the file.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 1 | Save-KdModel ./models/teacher.safetensors
/// Import-KdModel ./models/teacher.safetensors
/// </code>
/// <para>Saves a trained teacher (creating the folder) and loads it back.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $run = New-Teacher resnet8 -Dataset $data -Epochs 1 | Invoke-Distillation -Student resnet8 -Dataset $data -Epochs 1
/// $run | Save-KdModel ./student.safetensors -PassThru | Select-Object Architecture, TrainedWith, Path
/// $run | Save-KdModel ./student.safetensors -Force
/// </code>
/// <para>Saves a distilled student (a run saves its student), shows where it went, then overwrites the file.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $teacher | Invoke-Distillation -Student resnet8 -Dataset $data -Epochs 1 | Save-KdModel ./student.onnx -ClassNames $data.Dataset.ClassNames
/// Import-KdModel ./student.onnx | Measure-Student -Dataset $data | Select-Object Model, Runtime, Top1, LatencyMs
/// </code>
/// <para>Exports a distilled student to ONNX, loads it back into ONNX Runtime and measures it there.</para>
/// </example>
[Cmdlet(VerbsData.Save, "KdModel", SupportsShouldProcess = true)]
[OutputType(typeof(KdModel))]
public sealed class SaveKdModelCommand : KdCmdlet
{
    /// <summary>
    /// The model to save: from New-Teacher, New-Student, Import-KdModel or Add-IntermediateHead, a run from
    /// Invoke-Distillation (its student is saved), or a checkpoint path.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public KdModelArgument Model { get; set; } = null!;

    /// <summary>
    /// The file to write, relative to the current location; missing folders are created. Use the .safetensors
    /// extension for a checkpoint, .onnx for an ONNX model.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    /// <summary>Overwrite the file if it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write the saved model (its Path set to the file) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Safetensors (a checkpoint) or Onnx (an ONNX model for ONNX Runtime).</summary>
    /// <value>Onnx for a path ending in .onnx, else Safetensors.</value>
    [Parameter]
    [ValidateSet("Safetensors", "Onnx")]
    public string? Format { get; set; }

    /// <summary>ONNX only: put the input normalisation (mean, std) into the graph, so it takes raw [0, 1] pixels.</summary>
    [Parameter]
    public SwitchParameter IncludeNormalization { get; set; }

    /// <summary>ONNX only: export every exit of a model with exits (as outputs logits_{exit}), not only the final one.</summary>
    [Parameter]
    public SwitchParameter AllExits { get; set; }

    /// <summary>ONNX only: the side of the square images the graph takes.</summary>
    /// <value>the image size the model was trained on</value>
    [Parameter]
    [ValidateRange(1, 65_536)]
    public int? ImageSize { get; set; }

    /// <summary>ONNX only: the class names, in label order, for the file's metadata (for example $data.Dataset.ClassNames).</summary>
    [Parameter]
    public string[]? ClassNames { get; set; }

    protected override void ProcessRecord()
    {
        if (!TryResolveModel(Model.Value, "Student", out var model, out var run)) return;
        var full = ResolvePath(Path);
        bool onnx = Format is null ? ModelLoading.IsOnnx(full) : Format == "Onnx";
        if (!onnx && (IncludeNormalization || AllExits || ImageSize is not null || ClassNames is not null))
        {
            WriteKdError(KdErrorIds.ExportUnsupported, KdErrorKind.InvalidArgument,
                "-IncludeNormalization, -AllExits, -ImageSize and -ClassNames apply to ONNX files; give a path ending in .onnx or -Format Onnx", full);
            return;
        }
        if (!ShouldProcess(full, onnx ? $"Export {model.Architecture} as ONNX" : $"Save {model.Architecture} checkpoint")) return;
        if (File.Exists(full) && !Force)
        {
            WriteKdError(KdErrorIds.CheckpointExists, KdErrorKind.InvalidOperation, $"'{full}' already exists; pass -Force to overwrite it", full);
            return;
        }
        var provenance = new ModelProvenance
        {
            Method = model.TrainedWith,
            Dataset = model.TrainedOn,
            Epochs = model.TrainedEpochs,
            TestTop1 = model.Top1,
            Recipe = model.Recipe,
        };
        bool saved = TryInvoke(() =>
        {
            if (model.Network is OnnxRuntimeNet)
                throw new KdException(KdErrorIds.ModelInferenceOnly, KdErrorKind.InvalidArgument,
                    $"{model.Architecture} was loaded from an ONNX file ('{model.Path}'); copy that file instead", model.Path);
            if (onnx)
                OnnxExport.Save(full, model.Network, provenance, new OnnxExportOptions
                {
                    InputSize = ImageSize is int side ? new ImageSize(side, side) : null,
                    IncludeNormalization = IncludeNormalization,
                    AllExits = AllExits,
                    ClassNames = ClassNames ?? [],
                    Seed = run?.Seed,
                });
            else
                ModelFile.Save(full, model.Network, provenance);
            return true;
        }, full, out _);
        if (!saved) return;
        model.Path = full;
        if (PassThru) WriteObject(model);
    }
}
