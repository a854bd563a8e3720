namespace KdTools.Core.Training;

/// <summary>
/// The named recipes, listed by <c>Get-KdRecipe</c>, discovered from the [Registered] recipe classes (each declares a
/// static <c>Recipes()</c>; one file per recipe, <c>Training/Recipes/</c>). Lookups ignore case; an unknown name fails
/// suggesting the closest and listing the known ones.
/// </summary>
public static class TrainingRecipes
{
    public const string DefaultName = "Default";

    private static readonly Registry<TrainingRecipe> Entries = new("recipe", KdErrorIds.RecipeUnknown, r => r.Key,
        type => type.GetMethod("Recipes", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
            is { } recipes && recipes.ReturnType == typeof(IEnumerable<TrainingRecipe>)
            ? (IEnumerable<TrainingRecipe>)recipes.Invoke(null, null)!
            : [],
        recipes => recipes.OrderBy(r => r.ListingOrder).ThenBy(r => r.Task),
        listedNameOf: r => r.Name);

    /// <summary>Every recipe, in listing order.</summary>
    public static IReadOnlyList<TrainingRecipe> All => Entries.All;

    /// <summary>Whether the recipe called <paramref name="name"/> is a quick one (<see cref="TrainingRecipe.PreStagesScaleWithRun"/>); false for an unknown name.</summary>
    public static bool ScalesPreStages(string name) => Entries.TryGet(name, out var recipe) && recipe.PreStagesScaleWithRun;

    /// <summary>
    /// The recipe called <paramref name="name"/> (case-insensitive), or an error listing the known ones; a name with
    /// a recipe per task (<c>Default</c>) gives the classification one.
    /// </summary>
    public static TrainingRecipe Get(string name) => Get(name, PredictionTask.Classification);

    /// <summary>
    /// The recipe called <paramref name="name"/> for a run of <paramref name="task"/>: <c>Default</c> is each task's
    /// own; any other recipe is the same for every task.
    /// </summary>
    public static TrainingRecipe Get(string name, PredictionTask task) =>
        Entries.TryGet($"{name}/{task}", out var variant) ? variant : Entries.Get(name);

    /// <summary>The recipe a run of <paramref name="task"/> uses when none is named.</summary>
    public static TrainingRecipe DefaultFor(PredictionTask task) => Get(DefaultName, task);
}
