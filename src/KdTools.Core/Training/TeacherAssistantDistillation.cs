using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Training;

/// <summary>The two steps of TAKD and what each produced.</summary>
public sealed record TakdResult(ClassifierNet Assistant, TrainingResult AssistantRun, TrainingResult StudentRun)
{
    public bool Cancelled => AssistantRun.Cancelled || StudentRun.Cancelled;
}

/// <summary>Runs TAKD: KD from the teacher into a fresh assistant, then KD from the assistant into the student.</summary>
public static class TeacherAssistantDistillation
{
    public static TakdResult Run(ClassifierNet teacher, ClassifierNet student, TakdMethod method, KdDataset data,
        TrainingSettings settings, ILogger? logger = null, Action<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = method.Options;
        var assistant = ArchitectureRegistry.Create(o.Assistant, data.Classes, settings.Seed);
        using var assistantMethod = method.AssistantStep();
        var assistantSettings = settings with
        {
            Epochs = o.AssistantEpochs > 0 ? o.AssistantEpochs : settings.Epochs,
            LrMilestones = o.AssistantEpochs > 0 ? null : settings.LrMilestones,
            CheckpointDirectory = settings.CheckpointDirectory is { } dir ? Path.Combine(dir, "assistant") : null,
        };
        var first = RunStep(assistantSettings, new TrainingJob { Student = assistant, Teacher = teacher, Method = assistantMethod, Dataset = data },
            logger, progress, cancellation);
        if (first.Cancelled) return new TakdResult(assistant, first, first);
        assistant.eval();
        var second = RunStep(settings with { CheckpointDirectory = settings.CheckpointDirectory is { } d ? Path.Combine(d, "student") : null },
            new TrainingJob { Student = student, Teacher = assistant, Method = method, Dataset = data }, logger, progress, cancellation);
        return new TakdResult(assistant, first, second);
    }

    private static TrainingResult RunStep(TrainingSettings settings, TrainingJob job, ILogger? logger,
        Action<TrainingProgress>? progress, CancellationToken cancellation)
    {
        var trainer = new Trainer(settings, logger);
        if (progress is not null) trainer.Progress += progress;
        return trainer.Run(job, cancellation);
    }
}
