using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Training;

/// <summary>
/// The entry point for training a network: a distillation, a teacher (the CE method without a teacher), or a
/// method's whole protocol (TAKD's teacher → assistant → student). Head fine-tuning has its own,
/// <see cref="HeadFineTuning"/>.
/// </summary>
public static class Distillation
{
    /// <summary>Runs the request; on cancellation the result says so and names the resumable checkpoint.</summary>
    public static DistillationResult Run(DistillationRequest request, CancellationToken cancellation = default)
    {
        var (settings, method) = RunConfiguration.Resolve(request);
        try
        {
            var teacher = method.NeedsTeacher ? request.Teacher : null;
            var student = request.Student ?? ArchitectureRegistry.Create(request.StudentArchitecture!, request.Dataset.Classes, settings.Seed);
            var engine = request.Engine ?? EngineOptions.Default;

            var earlier = new List<DistillationResult>();
            var chain = method.IntermediateTeachers;
            foreach (var step in chain)
            {
                var assistant = ArchitectureRegistry.Create(step.Architecture, request.Dataset.Classes, settings.Seed);
                var stepSettings = settings with { Epochs = step.Epochs > 0 ? step.Epochs : settings.Epochs };
                using var stepMethod = step.CreateMethod();
                var result = Train(RunConfiguration.Checked(new TrainingJob
                    {
                        Student = assistant, Teacher = teacher, Method = stepMethod, Dataset = request.Dataset, StartOver = request.StartOver,
                    }), stepSettings, engine, request.Logger, request.Progress, step.Name, cancellation);
                earlier.Add(result);
                if (result.Cancelled) return result with { EarlierRuns = earlier.SkipLast(1).ToList() };
                teacher = assistant;
                teacher.eval();
            }

            var final = Train(RunConfiguration.Checked(new TrainingJob
            {
                Student = student,
                Teacher = teacher,
                Method = method,
                Dataset = request.Dataset,
                ResumeFrom = request.ResumeFrom,
                StartOver = request.StartOver,
                RunName = request.RunName,
            }), settings, engine, request.Logger, request.Progress, run: "", cancellation);
            return final with { EarlierRuns = earlier };
        }
        finally
        {
            if (request.Method is null) method.Dispose();
        }
    }

    /// <summary>Runs the engine on one job and assembles its result (the student with the method's exits).</summary>
    internal static DistillationResult Train(TrainingJob job, TrainingSettings settings, EngineOptions engine, ILogger? logger,
        Action<TrainingProgress>? progress, string run, CancellationToken cancellation)
    {
        var trainer = new Trainer(settings, logger, engine);
        if (progress is not null)
            trainer.Progress += run.Length == 0 ? progress : p => progress(p with { Run = run });
        var result = trainer.Run(job, cancellation);
        return Result(job, settings, result) with { Timings = trainer.Timings };
    }

    internal static DistillationResult Result(TrainingJob job, TrainingSettings settings, TrainingResult result)
    {
        var method = job.Method;
        // Self-distillation branches trained inside the method's modules are the student's own exits now: disposing
        // the method must leave them alive.
        if (method.StudentExits is not null) method.ReleaseExtras();
        return new DistillationResult
        {
            Network = result.Network,
            Teacher = job.Teacher,
            Method = method.Name,
            MethodOptions = method.Options.ToCompactString(),
            Settings = settings,
            History = result.History,
            PreStages = method.PreStages.Where(p => p.Epochs > 0).Select(p => (p.Name, p.Epochs)).ToList(),
            Cancelled = result.Cancelled,
            EpochsCompleted = result.EpochsCompleted,
            Reported = settings.KeepBestWeights ? result.Best : result.LastEvaluated,
            Best = result.Best,
            ExtraParameters = result.ExtraParameters,
            LastCheckpoint = result.LastCheckpoint,
            BestCheckpoint = result.BestCheckpoint,
            CheckpointFailure = result.CheckpointFailure,
            Duration = result.Duration,
        };
    }
}
