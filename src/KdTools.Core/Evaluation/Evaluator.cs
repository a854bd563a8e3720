using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Evaluation;

/// <summary>Accuracy of one classifier (or one exit of a multi-exit model) on a split.</summary>
/// <param name="Top1">Fraction in [0, 1].</param>
/// <param name="Top5">Fraction in [0, 1]; top-k with k = min(5, classes).</param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="TeacherAgreement">Fraction of samples whose top-1 equals the teacher's; NaN without a teacher.</param>
public sealed record EvaluationResult(int Count, double Top1, double Top5, double Loss, double TeacherAgreement);

/// <summary>Evaluates models in eval mode under no_grad, one dispose scope per batch.</summary>
public static class Evaluator
{
    /// <summary>Scores <paramref name="model"/> on <paramref name="set"/>; restores its train/eval mode afterwards.</summary>
    /// <param name="datasetNormalization">For a network that records no normalisation of its own (untrained, or from an old file).</param>
    public static EvaluationResult Evaluate(ClassifierNet model, ImageSet set, InputNormalization datasetNormalization, Device device,
        int batchSize = 256, ClassifierNet? teacher = null, CancellationToken cancellation = default) =>
        EvaluateExits(model, set, datasetNormalization, device, batchSize, teacher, cancellation)[ExitNames.Final];

    /// <summary>
    /// Scores every exit of the model: "final" (the main classifier), each extra exit in <see cref="ModelOutput.Exits"/>,
    /// and "ensemble" (the mean of all exits' logits, final classifier included, as BYOT's official code averages them)
    /// when there are extra exits. Each network sees the images normalised with its own statistics
    /// (<see cref="ClassifierNet.Normalization"/>), or the dataset's when it has none.
    /// </summary>
    public static IReadOnlyDictionary<string, EvaluationResult> EvaluateExits(ClassifierNet model, ImageSet set,
        InputNormalization datasetNormalization, Device device, int batchSize = 256, ClassifierNet? teacher = null,
        CancellationToken cancellation = default)
    {
        InputChecks.RequireChannels(model, set.Channels, "the dataset", "model");
        if (teacher is not null) InputChecks.RequireChannels(teacher, set.Channels, "the dataset", "teacher");
        var modelNormalization = model.Normalization ?? datasetNormalization;
        var teacherNormalization = teacher?.Normalization ?? datasetNormalization;
        bool wasTraining = model.training;
        model.eval();
        teacher?.eval();
        var sums = new Dictionary<string, double[]>();
        using var loader = new BatchLoader(set, batchSize, shuffle: false);
        try
        {
            using var noGrad = torch.no_grad();
            using (var orderScope = torch.NewDisposeScope())
            {
                var order = loader.EpochOrder(0);
                for (int b = 0; b < loader.BatchCount; b++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    var batch = loader.GetBatch(order, b);
                    var x = Normalized(batch.Images, modelNormalization, device);
                    var y = batch.Labels.to(device);
                    // Logits (and exits) only: no feature is kept, a logits-only pass runs in inference mode.
                    var output = FeatureRequest.RunFrozen(model, x, []);
                    var teacherInputs = teacherNormalization.Equals(modelNormalization) ? x : Normalized(batch.Images, teacherNormalization, device);
                    var teacherTop1 = teacher is null ? null : FeatureRequest.RunFrozen(teacher, teacherInputs, []).Logits.argmax(1);
                    foreach (var (exit, logits) in ExitLogits(output))
                    {
                        if (!sums.TryGetValue(exit, out var s)) sums[exit] = s = new double[4];
                        Accumulate(s, logits, y, teacherTop1);
                    }
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        int n = set.Count;
        return sums.ToDictionary(kv => kv.Key, kv => new EvaluationResult(n, kv.Value[0] / n, kv.Value[1] / n,
            kv.Value[2] / n, teacher is null ? double.NaN : kv.Value[3] / n));
    }

    private static Tensor Normalized(Tensor images, InputNormalization normalization, Device device) =>
        ChannelsLast.Apply(BatchAugmentation.Prepare(images, normalization.Mean, normalization.Std, AugmentationPolicy.None, generator: null).to(device));

    private static IEnumerable<(string Exit, Tensor Logits)> ExitLogits(ModelOutput output)
    {
        yield return (ExitNames.Final, output.Logits);
        if (output.Exits.Count == 0) yield break;
        foreach (var (name, logits) in output.Exits) yield return (name, logits);
        yield return (ExitNames.Ensemble, EnsembleLogits(output));
    }

    /// <summary>
    /// The ensemble of a multi-exit output: the mean of every exit's logits, the final classifier's included (BYOT's
    /// official test loop, <c>sum(outputs) / len(outputs)</c>). Its loss is the cross-entropy of these mean logits.
    /// </summary>
    public static Tensor EnsembleLogits(ModelOutput output) =>
        torch.stack(output.Exits.Values.Prepend(output.Logits).ToList()).mean([0]);

    private static void Accumulate(double[] sums, Tensor logits, Tensor labels, Tensor? teacherTop1)
    {
        int k = (int)Math.Min(5, logits.shape[1]);
        var topk = logits.topk(k, dim: 1).indexes;
        var hits = topk.eq(labels.unsqueeze(1));
        sums[0] += hits[.., 0].sum().ToInt64();
        sums[1] += hits.any(1).sum().ToInt64();
        sums[2] += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).ToDouble();
        if (teacherTop1 is not null) sums[3] += topk[.., 0].eq(teacherTop1).sum().ToInt64();
    }
}

/// <summary>Names of the exits a measurement reports.</summary>
public static class ExitNames
{
    public const string Final = "final";
    public const string Ensemble = "ensemble";
}
