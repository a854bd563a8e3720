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
    /// <summary>DIH's head training defaults: SGD lr 0.1, momentum 0.9, weight decay 5e-4, multistep schedule.</summary>
    public static TrainingSettings DefaultSettings(int epochs) => new() { Epochs = epochs, LearningRate = 0.1 };

    /// <param name="stages">1-based stages to mount heads on; null = every stage of the architecture.</param>
    public static (MultiExitNet Model, TrainingResult Result) Run(ClassifierNet trained, int[]? stages, KdDataset data,
        TrainingSettings settings, ILogger? logger = null, Action<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var backbone = trained is MultiExitNet existing ? existing.Backbone : trained;
        if (backbone.NumClasses != data.Classes)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"{backbone.Architecture} has {backbone.NumClasses} classes but dataset '{data.Name}' has {data.Classes}; add heads with the dataset it was trained on");
        var chosen = stages ?? Enumerable.Range(1, backbone.StageCount).ToArray();
        var heads = LinearStageHeads.For(backbone, chosen.Distinct().Order().ToArray(), data.Channels, data.Height, data.Width);
        var model = new MultiExitNet(backbone, heads);
        var frozen = backbone.parameters().Where(p => p.requires_grad).ToList();
        foreach (var p in frozen) p.requires_grad_(false);
        try
        {
            using var method = new HeadCrossEntropy();
            var trainer = new Trainer(settings with { KeepBestWeights = false }, logger);
            if (progress is not null) trainer.Progress += progress;
            var result = trainer.Run(new TrainingJob { Student = model, Method = method, Dataset = data, FreezeBackbone = true }, cancellation);
            return (model, result);
        }
        finally
        {
            foreach (var p in frozen) p.requires_grad_(true);
        }
    }

    /// <summary>
    /// The objective of head fine-tuning: Σ over heads of CE(head logits, labels); the backbone's own classifier is not
    /// trained. Public so a benchmark or a custom loop can run the same step.
    /// </summary>
    public sealed class HeadCrossEntropy() : DistillationMethod(new CrossEntropyOptions(), "Heads", needsTeacher: false)
    {
        public override double TaskLossWeight => 0;

        public override void AddLosses(StepContext step, LossTerms terms)
        {
            foreach (var (exit, logits) in step.Student.Exits)
                terms.Add(exit, TorchSharp.torch.nn.functional.cross_entropy(logits, step.Labels));
        }
    }
}
