using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Evaluation;

/// <summary>
/// The entry point for measuring a model, for either task: checks that model, teacher and dataset fit together, then
/// scores the test split (every exit, or mean IoU) and times the model.
/// </summary>
public static class Measurement
{
    /// <summary>Scores the request's model; a model, teacher or dataset that do not fit together fail before any work.</summary>
    public static MeasurementResult Run(MeasurementRequest request, CancellationToken cancellation = default)
    {
        var (model, teacher, data) = (request.Model, request.Teacher, request.Dataset);
        if (model.NumClasses != data.Classes)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"{model.Architecture} has {model.NumClasses} classes but dataset '{data.Name}' has {data.Classes}; " +
                "measure it on the dataset it was trained for");
        if (teacher is not null && teacher.NumClasses != model.NumClasses)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"{model.Architecture} has {model.NumClasses} classes but its teacher {teacher.Architecture} has {teacher.NumClasses}");
        var device = Devices.Resolve(request.Device);
        foreach (var (network, role) in new[] { (model, "model"), (teacher, "teacher") })
            if (network is not null && InputChecks.SizeWarning(network, data.Height, data.Width, $"dataset '{data.Name}'", role) is { } warning)
                request.Logger?.LogWarning("{Warning}", warning);
        model.to(device);
        teacher?.to(device);
        TaskCompatibility.RequireNetwork(model, "model", data.Task, data.Name);
        if (teacher is not null) TaskCompatibility.RequireNetwork(teacher, "teacher", data.Task, data.Name);

        var result = data.Task == PredictionTask.Segmentation
            ? new MeasurementResult
            {
                Task = data.Task,
                Count = data.Test.Count,
                Segmentation = SegmentationEvaluator.Evaluate(model, data.Test, data.Normalization, device, request.BatchSize, teacher, cancellation),
            }
            : new MeasurementResult
            {
                Task = data.Task,
                Count = data.Test.Count,
                Exits = Evaluator.EvaluateExits(model, data.Test, data.Normalization, device, request.BatchSize, teacher, cancellation),
            };
        return request.Timing
            ? result with { Speed = LatencyMeter.Measure(model, data.Channels, data.Height, data.Width, device, request.BatchSize) }
            : result;
    }

    /// <summary>
    /// Fails unless <paramref name="teacher"/> predicts <paramref name="data"/>'s classes: agreement between models of
    /// different class counts means nothing. For a caller that fixes one teacher for many measurements.
    /// </summary>
    public static void RequireTeacher(ClassifierNet teacher, Data.KdDataset data)
    {
        if (teacher.NumClasses != data.Classes)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the teacher {teacher.Architecture} has {teacher.NumClasses} classes but dataset '{data.Name}' has {data.Classes}: " +
                "agreement between models of different class counts means nothing; pass a teacher trained on this dataset");
    }
}
