using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// What the networks learn to predict: the engine's task seam. The engine never names a label shape, a label loss or
/// a metric; it asks the task to turn a batch into inputs and labels, to run the student, for the label loss and the
/// training hits of a step, and for the test metrics of an epoch. <see cref="TrainingTasks.For"/> picks the dataset's:
/// classification, or semantic segmentation (<see cref="SegmentationTask"/>).
/// </summary>
internal interface ITrainingTask
{
    /// <summary>The metric (a key of <see cref="Evaluate"/>'s results, higher is better) that picks the best epoch.</summary>
    string ScoreMetric { get; }

    /// <summary>
    /// A training batch as one network's inputs and the labels, on <paramref name="device"/>: augmented as the task's
    /// policy in <paramref name="settings"/> says, with the draws of <paramref name="random"/> (labels that have a layout
    /// get the same crop and flip), and normalised with <paramref name="normalization"/>. Two calls with identically
    /// seeded generators make identical draws, so a teacher with other statistics sees the same augmented images.
    /// </summary>
    (Tensor Inputs, Tensor Labels) Prepare(Batch batch, InputNormalization normalization, TrainingSettings settings,
        Generator random, Device device);

    /// <summary>The student's forward pass in a training step; random layers (a head's dropout) draw from <paramref name="random"/>.</summary>
    ModelOutput RunStudent(ClassifierNet student, Tensor inputs, Generator random);

    /// <summary>The label loss of a step, a scalar (mean over the batch).</summary>
    Tensor Loss(ModelOutput student, Tensor labels);

    /// <summary>How many of the step's predictions match the labels, and how many were scored.</summary>
    (long Correct, long Scored) Hits(ModelOutput student, Tensor labels);

    /// <summary>Test metrics of every exit of <paramref name="model"/> (see <see cref="EpochRecord.Test"/>).</summary>
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluate(ClassifierNet model, KdDataset data, Device device);
}

/// <summary>Picks the task a dataset defines.</summary>
internal static class TrainingTasks
{
    public static ITrainingTask For(KdDataset dataset) =>
        dataset.Task == PredictionTask.Segmentation ? SegmentationTask.Instance : ClassificationTask.Instance;
}

/// <summary>Image classification: int64 labels [B], cross-entropy, top-1/top-5 accuracy per exit.</summary>
internal sealed class ClassificationTask : ITrainingTask
{
    public static ClassificationTask Instance { get; } = new();

    public string ScoreMetric => MetricNames.Top1;

    public (Tensor Inputs, Tensor Labels) Prepare(Batch batch, InputNormalization normalization, TrainingSettings settings,
        Generator random, Device device) =>
        (BatchAugmentation.Prepare(batch.Images, normalization.Mean, normalization.Std, settings.Augmentation, random).to(device), batch.Labels.to(device));

    public ModelOutput RunStudent(ClassifierNet student, Tensor inputs, Generator random) => student.Run(inputs);

    public Tensor Loss(ModelOutput student, Tensor labels) => nn.functional.cross_entropy(student.Logits, labels);

    public (long Correct, long Scored) Hits(ModelOutput student, Tensor labels) =>
        (student.Logits.argmax(1).eq(labels).sum().ToInt64(), labels.shape[0]);

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluate(ClassifierNet model, KdDataset data, Device device) =>
        Evaluator.EvaluateExits(model, data.Test, data.Normalization, device).ToDictionary(e => e.Key,
            e => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>
            {
                [MetricNames.Loss] = e.Value.Loss,
                [MetricNames.Top1] = e.Value.Top1,
                [MetricNames.Top5] = e.Value.Top5,
            });
}
