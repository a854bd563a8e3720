using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Checkpoints;

namespace KdTools.Cmdlets.Commands;

/// <summary>Saves a model, or a run's student, as a safetensors checkpoint that Import-KdModel and PyTorch read.</summary>
/// <remarks>
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
    /// extension.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    /// <summary>Overwrite the file if it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write the saved model (its Path set to the file) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!TryResolveModel(Model.Value, "Student", out var model, out _)) return;
        var full = ResolvePath(Path);
        if (!ShouldProcess(full, $"Save {model.Architecture} checkpoint")) return;
        if (File.Exists(full) && !Force)
        {
            WriteKdError(KdErrorIds.CheckpointExists, KdErrorKind.InvalidOperation, $"'{full}' already exists; pass -Force to overwrite it", full);
            return;
        }
        bool saved = TryInvoke(() =>
        {
            ModelFile.Save(full, model.Network, new ModelProvenance
            {
                Method = model.TrainedWith,
                Dataset = model.TrainedOn,
                Epochs = model.TrainedEpochs,
                TestTop1 = model.Top1,
                Recipe = model.Recipe,
            });
            return true;
        }, full, out _);
        if (!saved) return;
        model.Path = full;
        if (PassThru) WriteObject(model);
    }
}
