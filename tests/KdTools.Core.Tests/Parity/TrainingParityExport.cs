using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

/// <summary>
/// Runs one <see cref="TrainingCase"/> through the real engine (<see cref="Trainer"/>, observed by a
/// <see cref="TrainingRecorder"/>) with every tensor in <c>dtype</c>, and writes what its PyTorch replay needs.
/// Pre-stages join the comparison: each runs one epoch, recorded step by step like the main stage.
/// </summary>
internal static class TrainingParityExport
{
    private const int Classes = 4;

    public static void Write(string folder, TrainingCase parityCase, ScalarType dtype, ParityConfiguration configuration)
    {
        using var defaultDtype = new DefaultDtypeScope(dtype);
        using var data = SyntheticDataset.Create(new SyntheticDatasetOptions
        {
            Classes = Classes,
            TrainCount = configuration.StepsPerEpoch * configuration.TrainingBatch,
            TestCount = 8,
            ImageSize = configuration.TrainingImageSize,
            Seed = 5,
        });
        using var method = MethodRegistry.Create(parityCase.Method, parityCase.Options);
        using var student = ArchitectureRegistry.Create(configuration.Student, Classes, seed: 11);
        using var teacher = method.NeedsTeacher ? Teacher(parityCase.Method, parityCase.Teacher ?? configuration.Teacher, configuration) : null;
        if (teacher is not null) teacher.Normalization = parityCase.TeacherNormalization;
        var settings = new TrainingSettings
        {
            Epochs = 1,
            BatchSize = configuration.TrainingBatch,
            LearningRate = 0.05,
            Momentum = 0.9,
            WeightDecay = 5e-4,
            Nesterov = parityCase.Nesterov,
            Seed = 3,
        };
        var job = new TrainingJob { Student = student, Teacher = teacher, Method = method, Dataset = data };
        using var recorder = new TrainingRecorder();
        TinySetup.Train(job, settings, new EngineOptions { Observer = recorder, StopOnDivergence = false, FastPaths = false });
        recorder.Keep("dataset/labels", data.Train.Labels);
        recorder.Write(folder, new Dictionary<string, object?>
        {
            ["name"] = parityCase.Name,
            ["method"] = method.Name,
            ["dtype"] = ParityConfiguration.DtypeName(dtype),
            ["options"] = MethodOptionInfo.For(method.Options.GetType()).ToDictionary(o => o.Name, o => o.Property.GetValue(method.Options)),
            ["student"] = configuration.Student,
            ["teacher"] = teacher?.Architecture,
            ["teacher_heads"] = teacher is MultiExitNet multi ? new { kind = multi.Heads.Kind, configuration = multi.Heads.Configuration } : null,
            ["classes"] = Classes,
            ["samples"] = data.Train.Count,
            ["momentum"] = settings.Momentum,
            ["weight_decay"] = settings.WeightDecay,
            ["nesterov"] = settings.Nesterov,
            // What each network's inputs are normalised with (the recorded inputs are the student's).
            ["normalization"] = new Dictionary<string, object?>
            {
                ["student"] = Statistics(student.Normalization!),
                ["teacher"] = teacher is null ? null : Statistics(teacher.Normalization ?? data.Normalization),
            },
        });
    }

    private static object Statistics(InputNormalization normalization) => new { mean = normalization.Mean, std = normalization.Std };

    /// <summary>The teacher, with randomised BatchNorm statistics like a trained one; DIH's carries linear stage heads.</summary>
    private static ClassifierNet Teacher(string method, string architecture, ParityConfiguration configuration)
    {
        var backbone = ArchitectureRegistry.Create(architecture, Classes, seed: 13);
        using (var generator = new Generator(17)) ParityWeights.RandomizeBatchNorm(backbone, generator);
        if (!string.Equals(method, "DIH", StringComparison.OrdinalIgnoreCase)) return backbone;
        int size = configuration.TrainingImageSize;
        var heads = LinearStageHeads.For(backbone, Enumerable.Range(1, backbone.StageCount).ToArray(), 3, size, size);
        return new MultiExitNet(backbone, heads);
    }
}
