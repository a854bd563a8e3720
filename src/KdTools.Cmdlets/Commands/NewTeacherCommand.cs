using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>Trains a teacher network from the labels.</summary>
/// <remarks>
/// <para>With -Architecture and -Dataset, New-Teacher builds a fresh network and trains it with cross-entropy,
/// evaluating on the test split after every epoch. The training settings come from -Recipe (the Default recipe: 10
/// epochs, SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 64, the rate ×0.1 at 62.5, 75 and 87.5 % of the epochs,
/// pad-4 crop and flip; Get-KdRecipe lists the others), and every parameter given explicitly overrides the recipe's
/// value. -Verbose shows each epoch; a progress bar shows epochs and batches; Ctrl+C stops at the next batch and saves
/// a resumable checkpoint.</para>
/// <para>To load a trained teacher use Import-KdModel: it reads KdTools checkpoints and PyTorch state dicts. -Path
/// still loads a KdTools checkpoint (Save-KdModel's, or the &lt;run&gt;-last/-best.safetensors of -CheckpointDirectory),
/// as Import-KdModel does.</para>
/// <para>The teacher it writes feeds Invoke-Distillation (through the pipeline or -Teacher), Add-IntermediateHead and
/// Measure-Student.</para>
/// </remarks>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// $teacher = New-Teacher -Architecture resnet14 -Dataset $data -Epochs 1
/// $teacher
/// </code>
/// <para>Trains a resnet14 teacher for one epoch (seconds; a teacher worth distilling takes tens of epochs) and shows
/// its test top-1.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 2 -CheckpointDirectory ./teacher-run | Out-Null
/// $teacher = Get-ChildItem ./teacher-run -Filter '*-best.safetensors' | Import-KdModel
/// $teacher.TrainedEpochs
/// </code>
/// <para>Trains with checkpoints in ./teacher-run, then loads the best epoch's weights back from the file, as a later
/// session would.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Recipe DIH -Epochs 3 -BatchSize 32 -Seed 5 -Verbose
/// </code>
/// <para>DIH's recipe (lr 0.1 with Nesterov momentum, ×0.2 at 30, 60 and 90 % of the epochs, reflect-padded crops)
/// shortened to 3 epochs and a smaller batch, with the per-epoch log on the verbose stream.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// New-Teacher resnet8 -Dataset $data -Epochs 3 -LearningRate 0.1 -LrMilestones 1, 2 -Nesterov -NoAugment
/// </code>
/// <para>A schedule of your own: lr 0.1 with Nesterov momentum, divided by ten after epochs 1 and 2, without
/// augmentation.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "Teacher", DefaultParameterSetName = TrainSet)]
[OutputType(typeof(KdModel))]
public sealed class NewTeacherCommand : KdTrainingCmdlet
{
    private const string TrainSet = "Train";
    private const string LoadSet = "Load";

    /// <summary>The architecture to train (Get-KdArchitecture lists them), e.g. resnet56.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TrainSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string Architecture { get; set; } = "";

    /// <summary>
    /// The dataset to train on (its training split) and evaluate on (its test split): Get-KdDataset's or
    /// Save-KdDataset's output (also from the pipeline) or a dataset folder.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = TrainSet, ValueFromPipeline = true)]
    public KdDatasetArgument Dataset { get; set; } = null!;

    /// <summary>
    /// A KdTools checkpoint to load instead of training: a .safetensors file written by Save-KdModel or by
    /// -CheckpointDirectory (&lt;run&gt;-last.safetensors, &lt;run&gt;-best.safetensors); its architecture, class count and normalisation come
    /// from the file. Import-KdModel does the same and also reads PyTorch state dicts: use it instead.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = LoadSet, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        if (ParameterSetName == LoadSet)
        {
            var full = ResolvePath(Path);
            WriteObject(Invoke(() => ModelLoading.Load(full, "Teacher"), Path));
            return;
        }

        var data = ResolveDataset(Dataset).Dataset;
        var architecture = Invoke(() => ArchitectureRegistry.Get(Architecture), Architecture).Name;
        // A teacher is a network trained on the labels alone: the CE method without a teacher.
        var result = Train((logger, progress) => Distillation.Run(new DistillationRequest
        {
            Dataset = data,
            StudentArchitecture = architecture,
            MethodName = "CE",
            Recipe = RecipeName,
            Overrides = Overrides(),
            ResumeFrom = ResumePath,
            StartOver = Force,
            Logger = logger,
            Progress = progress,
        }, Cancellation), $"Training teacher {architecture}", Architecture);
        WriteObject(ModelFrom(result, "Teacher", data));
    }
}
