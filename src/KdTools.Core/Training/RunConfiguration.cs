using KdTools.Core.Models;

namespace KdTools.Core.Training;

/// <summary>
/// Where a run's settings come from, decided once: the named recipe (or, with none named, the default of the
/// dataset's task), its values for the student (a lightweight student's learning rate), then the caller's overrides.
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
}
