using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Lists the named training recipes (-Recipe on New-Teacher, Invoke-Distillation, Add-IntermediateHead) with
/// every setting each one gives: epochs, learning rate, momentum, Nesterov, weight decay, batch size, schedule and
/// augmentation, and where the values come from.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "KdRecipe")]
[OutputType(typeof(KdRecipeInfo))]
public sealed class GetKdRecipeCommand : KdCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RecipeCompleter))]
    public string Name { get; set; } = "*";

    protected override void ProcessRecord()
    {
        var wildcard = new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        var matches = TrainingRecipes.All.Where(r => wildcard.IsMatch(r.Name)).ToList();
        if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(Name))
            Invoke(() => TrainingRecipes.Get(Name), Name);
        foreach (var recipe in matches)
        {
            var s = recipe.Settings;
            WriteObject(new KdRecipeInfo
            {
                Name = recipe.Name,
                Epochs = s.Epochs,
                LearningRate = s.LearningRate,
                LightweightLearningRate = recipe.LightweightLearningRate ?? double.NaN,
                Momentum = s.Momentum,
                Nesterov = s.Nesterov,
                WeightDecay = s.WeightDecay,
                BatchSize = s.BatchSize,
                Schedule = s.Schedule.Describe(s.Epochs),
                Milestones = string.Join(",", (s.Schedule.MilestoneFractions ?? []).Select(f => (f * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%")),
                Augmentation = s.Augmentation.ToString(),
                Source = recipe.Source,
            });
        }
    }
}
