using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Checkpoints;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Saves a model (or a run's student) as a safetensors checkpoint that New-Teacher -Path and PyTorch's
/// safetensors can read. Overwriting needs -Force; honours -WhatIf/-Confirm.</para>
/// </summary>
[Cmdlet(VerbsData.Save, "KdModel", SupportsShouldProcess = true)]
[OutputType(typeof(KdModel))]
public sealed class SaveKdModelCommand : KdCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [KdModelTransformation("Student")]
    public KdModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Emit the model (with its Path set) after saving.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var full = ResolvePath(Path);
        if (!ShouldProcess(full, $"Save {Model.Architecture} checkpoint")) return;
        if (File.Exists(full) && !Force)
        {
            // Per-item failure: the other models in the pipeline are still saved.
            WriteError(ErrorRecords.From(new Core.KdException(Core.KdErrorIds.CheckpointExists, Core.KdErrorKind.InvalidOperation,
                $"'{full}' already exists; pass -Force to overwrite it", full)));
            return;
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        Invoke(() => ModelFile.Save(full, Model.Network, new ModelProvenance
        {
            Method = Model.TrainedWith,
            Dataset = Model.TrainedOn,
            Epochs = Model.TrainedEpochs,
            TestTop1 = Model.Top1,
            Recipe = Model.Recipe,
        }));
        Model.Path = full;
        if (PassThru) WriteObject(Model);
    }
}
