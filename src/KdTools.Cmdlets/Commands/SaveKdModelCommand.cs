using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Checkpoints;

namespace KdTools.Cmdlets.Commands;

/// <summary>Saves a model, or a run's student, as a safetensors checkpoint.</summary>
/// <remarks>
/// <para>The file holds the network's weights under PyTorch's state-dict names (model.*), so Python's
/// safetensors.torch.load_file reads them, and the model's provenance: architecture, classes, method, dataset,
/// epochs, test top-1 and normalisation. New-Teacher -Path and Measure-Student load it back; loading never runs code
/// from the file.</para>
/// <para>An existing file is kept unless -Force is given: that model gets an error and the others in the pipeline are
/// still saved. -WhatIf shows what would be written. The model's Path property is set to the file.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher resnet8 -Dataset $data -Epochs 1
/// $teacher | Save-KdModel ./teacher.safetensors
/// New-Teacher -Path ./teacher.safetensors
/// </code>
/// <para>Saves a trained teacher and loads it back.</para>
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
    /// The model to save: from New-Teacher, New-Student or Add-IntermediateHead, or a run from Invoke-Distillation (its
    /// student is saved).
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [KdModelTransformation("Student")]
    public KdModel Model { get; set; } = null!;

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
            Mean = Model.Mean,
            Std = Model.Std,
        }));
        Model.Path = full;
        if (PassThru) WriteObject(Model);
    }
}
