using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Core.Tests.Training;

/// <summary>Small, fast building blocks for engine tests: 16x16 synthetic images, resnet8, a couple of epochs.</summary>
internal static class TinySetup
{
    public static KdDataset Dataset(int train = 256, int test = 128, int classes = 4, long seed = 7) =>
        SyntheticDataset.Create(new SyntheticDatasetOptions { Classes = classes, TrainCount = train, TestCount = test, ImageSize = 16, Seed = seed });

    public static TrainingSettings Settings(int epochs = 2, string? checkpoints = null) => new()
    {
        Epochs = epochs,
        BatchSize = 32,
        LearningRate = 0.05,
        Seed = 3,
        Threads = 2,
        CheckpointDirectory = checkpoints,
    };

    public static TrainingJob Job(KdDataset data, string method = "CE", ClassifierNet? teacher = null, string student = "resnet8",
        IReadOnlyDictionary<string, object?>? options = null, string? resumeFrom = null) => new()
    {
        Student = ArchitectureRegistry.Create(student, data.Classes, seed: 11),
        Teacher = teacher,
        Method = MethodRegistry.Create(method, options),
        Dataset = data,
        ResumeFrom = resumeFrom,
    };

    /// <summary>
    /// Trains <paramref name="job"/> through the public entry point (<see cref="Distillation.Run"/>) with exactly
    /// <paramref name="settings"/> and the engine switches a test needs.
    /// </summary>
    public static DistillationResult Train(TrainingJob job, TrainingSettings settings, EngineOptions? engine = null,
        Action<TrainingProgress>? progress = null, CancellationToken cancellation = default) =>
        Distillation.Run(new DistillationRequest
        {
            Dataset = job.Dataset,
            Student = job.Student,
            Teacher = job.Teacher,
            Method = job.Method,
            Settings = settings,
            ResumeFrom = job.ResumeFrom,
            StartOver = job.StartOver,
            RunName = job.RunName,
            Engine = engine,
            Progress = progress,
        }, cancellation);

    public static string TempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "kdtools-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Every state-dict entry as raw values, for bitwise comparisons.</summary>
    public static Dictionary<string, float[]> Weights(ClassifierNet model) =>
        model.state_dict().Where(kv => kv.Value.dtype == TorchSharp.torch.ScalarType.Float32)
            .ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
}
