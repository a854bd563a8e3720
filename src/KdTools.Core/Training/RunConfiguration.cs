using KdTools.Core.Methods;
using KdTools.Core.Models;

namespace KdTools.Core.Training;

/// <summary>
/// Where a run's settings come from and what is checked before it starts, decided once: the named recipe (or, with
/// none named, the default of the dataset's task), its values for the student (a lightweight student's learning
/// rate), then the caller's overrides; the method with its options; then every check of the run (settings, needs a
/// teacher, one task, class counts, input channels). The engine trusts what this step let through.
/// </summary>
public static class RunConfiguration
{
    /// <summary>The settings of a run of <paramref name="task"/> training <paramref name="studentArchitecture"/>.</summary>
    /// <param name="recipe">A recipe name (<see cref="TrainingRecipes"/>); null = <see cref="TrainingRecipes.DefaultFor"/> the task.</param>
    /// <param name="studentArchitecture">The student's registered architecture; null or unregistered = no student-specific values.</param>
    public static TrainingSettings Resolve(string? recipe, PredictionTask task, string? studentArchitecture, TrainingOverrides? overrides)
    {
        var chosen = recipe is null ? TrainingRecipes.DefaultFor(task) : TrainingRecipes.Get(recipe, task);
        var settings = studentArchitecture is not null && ArchitectureRegistry.Contains(studentArchitecture)
            ? chosen.SettingsFor(studentArchitecture)
            : chosen.Settings;
        return overrides is null ? settings : overrides.ApplyTo(settings);
    }

    /// <summary>
    /// A request's validated settings and its method (created from its name and options unless the request gives a
    /// method object; the caller disposes a created one), checked as far as they can be before a network is built: the
    /// settings, the method's task, and a named student's task. The jobs built from them go through <see cref="Checked"/>.
    /// </summary>
    internal static (TrainingSettings Settings, DistillationMethod Method) Resolve(DistillationRequest request)
    {
        var settings = request.ResolveSettings();
        settings.Validate();
        var method = request.Method ?? MethodRegistry.Create(request.MethodName, request.MethodOptions, request.KdWeight);
        try
        {
            // A quick recipe's run is short by design: pre-stages the caller did not size scale with it.
            if (request.Method is null && TrainingRecipes.ScalesPreStages(settings.Recipe))
                method.Options.FitToQuickRun(settings.Epochs);
            var (task, dataset) = (request.Dataset.Task, request.Dataset.Name);
            TaskCompatibility.RequireMethod(method.Name, method.Tasks, task, dataset);
            // A named student is checked before it is built; a given network, with the job.
            if (request.Student is null)
            {
                var name = request.StudentArchitecture ?? throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
                    "the request names no student: give an architecture or a network");
                TaskCompatibility.RequireArchitecture(name, ArchitectureRegistry.Get(name).Task, "student", task, dataset);
            }
            return (settings, method);
        }
        catch
        {
            if (request.Method is null) method.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="job"/>, checked as the engine needs it: trainable networks of the dataset's task, a teacher for
    /// a method that needs one (a teacher-free method's job has none), the dataset's class count and input channels.
    /// Every job reaches the engine through here, once; the engine does not check again.
    /// </summary>
    internal static TrainingJob Checked(TrainingJob job)
    {
        var method = job.Method;
        Export.OnnxRuntimeNet.RequireTrainable(job.Student is MultiExitNet multi ? multi.Backbone : job.Student, "student");
        Export.OnnxRuntimeNet.RequireTrainable(job.Teacher, "teacher");
        var (task, dataset) = (job.Dataset.Task, job.Dataset.Name);
        TaskCompatibility.RequireNetwork(job.Student, "student", task, dataset);
        if (job.Teacher is not null) TaskCompatibility.RequireNetwork(job.Teacher, "teacher", task, dataset);
        RequireTeacher(method, job.Teacher);
        if (job.Student.NumClasses != job.Dataset.Classes)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the student ({job.Student.Architecture}) has {job.Student.NumClasses} classes but dataset '{job.Dataset.Name}' has {job.Dataset.Classes}; create the student for {job.Dataset.Classes} classes");
        if (job.Teacher is { } teacher && teacher.NumClasses != job.Student.NumClasses)
            throw new KdException(KdErrorIds.ClassCountMismatch, KdErrorKind.InvalidArgument,
                $"the teacher ({teacher.Architecture}) has {teacher.NumClasses} classes but the student has {job.Student.NumClasses}; both must be trained for dataset '{job.Dataset.Name}' ({job.Dataset.Classes} classes)");
        InputChecks.RequireChannels(job.Student, job.Dataset, "student");
        if (job.Teacher is not null) InputChecks.RequireChannels(job.Teacher, job.Dataset, "teacher");
        return job;
    }

    private static void RequireTeacher(DistillationMethod method, ClassifierNet? teacher)
    {
        if (method.NeedsTeacher && teacher is null)
            throw new KdException(KdErrorIds.MethodNeedsTeacher, KdErrorKind.InvalidArgument,
                $"method {method.Name} needs a teacher; give it one, or use a teacher-free method such as CE");
    }
}
