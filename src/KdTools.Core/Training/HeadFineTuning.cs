using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Training;

/// <summary>
/// Mounts linear classifier heads after a trained network's stages and trains only the heads with cross-entropy while
/// the backbone stays frozen in eval mode (DIH's setting). The backbone's weights and BN statistics do not change, and
/// with its requires_grad off autograd never enters it, so fine-tuning costs about one eval forward per batch.
/// </summary>
public static class HeadFineTuning
{
    /// <summary>Epochs of head fine-tuning unless told otherwise (DIH trains its heads for 200).</summary>
    public const int DefaultEpochs = 30;

    /// <summary>
    /// DIH's head training recipe over <paramref name="epochs"/>: SGD lr 0.1 with Nesterov momentum 0.9, weight decay
    /// 5e-4, ×0.2 at 30/60/90 % of the epochs (60/120/180 of 200), batch 64, reflect-padded crop and flip.
    /// </summary>
    public static TrainingSettings DefaultSettings(int epochs = DefaultEpochs) => TrainingRecipes.Get("DIH").Settings with { Epochs = epochs };

    /// <summary>Trains the request's heads with its resolved settings; the result's network is the backbone with its heads.</summary>
    public static DistillationResult Run(HeadFineTuningRequest request, CancellationToken cancellation = default) =>
        Run(request.Network, request.Stages, request.Dataset, request.ResolveSettings(), request.Logger, request.Progress, cancellation,
            request.StartOver, request.ResumeFrom);

    /// <summary>Trains heads on <paramref name="trained"/>'s stages with exactly <paramref name="settings"/>.</summary>
    /// <param name="stages">1-based stages to mount heads on; null = every stage of the architecture.</param>
    /// <param name="startOver">Start even when the checkpoint folder holds an unfinished run of the same configuration.</param>
    /// <param name="resumeFrom">The resumable checkpoint of a stopped run of the same configuration, to continue it.</param>
    public static DistillationResult Run(ClassifierNet trained, int[]? stages, KdDataset data, TrainingSettings settings,
        ILogger? logger = null, Action<TrainingProgress>? progress = null, CancellationToken cancellation = default, bool startOver = false,
        string? resumeFrom = null)
    {
        settings.Validate();
        var backbone = trained is MultiExitNet existing ? existing.Backbone : trained;
        Export.OnnxRuntimeNet.RequireTrainable(backbone, "backbone");
        if (backbone.Task != PredictionTask.Classification || data.Task != PredictionTask.Classification)
            throw new KdException(KdErrorIds.MethodTaskUnsupported, KdErrorKind.InvalidArgument,
                $"intermediate heads classify whole images: they need a classification network and dataset, not {backbone.Architecture} ({backbone.Task}) on '{data.Name}' ({data.Task})",
                backbone.Architecture);
        if (backbone.NumClasses != data.Classes)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"{backbone.Architecture} has {backbone.NumClasses} classes but dataset '{data.Name}' has {data.Classes}; add heads with the dataset it was trained on");
        var chosen = (stages ?? Enumerable.Range(1, backbone.StageCount).ToArray()).Distinct().Order().ToArray();
        // The heads' default initialisation draws from libtorch's global generator: seeded and locked, like a model's.
        var heads = GlobalGenerator.Seeded(Trainer.MixSeed(settings.Seed, -1, 0, 0),
            () => LinearStageHeads.For(backbone, chosen, data.Channels, data.Height, data.Width));
        var model = new MultiExitNet(backbone, heads);
        var frozen = backbone.parameters().Where(p => p.requires_grad).ToList();
        foreach (var p in frozen) p.requires_grad_(false);
        try
        {
            using var method = new HeadCrossEntropy();
            var job = new TrainingJob { Student = model, Method = method, Dataset = data, FreezeBackbone = true, StartOver = startOver, ResumeFrom = resumeFrom };
            return Distillation.Train(RunConfiguration.Checked(job), settings with { KeepBestWeights = false }, EngineOptions.Default, logger, progress, run: "", cancellation);
        }
        finally
        {
            foreach (var p in frozen) p.requires_grad_(true);
        }
    }

    /// <summary>
    /// The objective of head fine-tuning: Σ over heads of CE(head logits, labels); the backbone's own classifier is not
    /// trained. Internal so a benchmark can run the same step.
    /// </summary>
    internal sealed class HeadCrossEntropy() : DistillationMethod(new CrossEntropyOptions(), "Heads", needsTeacher: false)
    {
        public override double TaskLossWeight => 0;

        public override void AddLosses(StepContext step, LossTerms terms)
        {
            foreach (var (exit, logits) in step.Student.Exits)
                terms.Add(exit, TorchSharp.torch.nn.functional.cross_entropy(logits, step.Labels));
        }
    }
}
