using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core;
using KdTools.Core.Checkpoints;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Saves a model (or a run's student) as a safetensors checkpoint that Import-KdModel loads and PyTorch's
/// safetensors reads (the network's weights are its model.* entries, under PyTorch's key names). The file is written
/// atomically: it appears only once complete, and a failed save leaves any previous file as it was.</para>
/// <para>Overwriting needs -Force; -WhatIf shows what would be written. A model that cannot be saved (the file exists,
/// the folder is read-only, a file stands where the folder should be) is a non-terminating error naming the target, so
/// the other models in the pipeline are still saved.</para>
/// </summary>
/// <example>
/// <code>$teacher | Save-KdModel -Path ./models/teacher.safetensors</code>
/// <para>Saves a teacher (the folder is created when missing).</para>
/// </example>
/// <example>
/// <code>$runs | ForEach-Object { $_ | Save-KdModel -Path "./models/$($_.Method).safetensors" -Force -PassThru }</code>
/// <para>Saves each run's student under its method's name, replacing earlier files, and emits the saved models.</para>
/// </example>
[Cmdlet(VerbsData.Save, "KdModel", SupportsShouldProcess = true)]
[OutputType(typeof(KdModel))]
public sealed class SaveKdModelCommand : KdCmdlet
{
    /// <summary>The model to save: a model, a run (its student) or a checkpoint path.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public KdModelArgument Model { get; set; } = null!;

    /// <summary>The file to write, usually *.safetensors.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    /// <summary>Replace the file when it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Emit the model (with its Path set) after saving.</summary>
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
                Mean = model.Mean,
                Std = model.Std,
            });
            return true;
        }, full, out _);
        if (!saved) return;
        model.Path = full;
        if (PassThru) WriteObject(model);
    }
}
