using System.Globalization;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Commands;

/// <summary>Lists the named training recipes with every setting each one gives.</summary>
/// <remarks>
/// <para>A recipe is the reference training setup of a paper or toolkit: epochs, learning rate, momentum, Nesterov,
/// weight decay, batch size, the learning-rate schedule and the augmentation, as its official code runs them. Source
/// says where the values come from.</para>
/// <para>-Recipe on New-Teacher, Invoke-Distillation and Add-IntermediateHead starts a run from one; every parameter
/// given explicitly overrides the recipe's value, and the run records the recipe. Milestones are fractions of the
/// epochs (Milestones), so -Recipe RepDistiller -Epochs 24 decays at epochs 15, 18 and 21. A recipe may give a
/// lightweight student (MobileNetV2, ShuffleV1, ShuffleV2) a lower learning rate (LightweightLearningRate).</para>
/// <para>Default is what the training cmdlets use when -Recipe is not given, and it has one row per task: the dataset's
/// task picks it. Classification: RepDistiller's optimizer, schedule shape and augmentation over 10 epochs, lr 0.01
/// for a lightweight student. Segmentation: SKD's optimizer (lr 0.01, weight decay 1e-4), poly schedule, batch 8 and
/// random scale, crop and flip over 10 epochs. Add-IntermediateHead uses DIH's recipe over 30 epochs instead.</para>
/// <para>SKD is the official segmentation code's full recipe (108 epochs of Cityscapes' size); its paper distills
/// pspnet_resnet101_deepstem into pspnet_resnet18_deepstem, the official code's networks.</para>
/// <para>An unknown name without wildcards is a KdTools.Recipe.Unknown error that lists the known ones.</para>
/// </remarks>
/// <example>
/// <code>
/// Get-KdRecipe
/// </code>
/// <para>Every recipe with its task, epochs, learning rate, batch size and schedule, the default of each task first.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdRecipe RepDistiller | Format-List Name, Epochs, LearningRate, LightweightLearningRate, Schedule, Milestones, Augmentation, Source
/// </code>
/// <para>Everything RepDistiller's recipe sets, and where it comes from.</para>
/// </example>
/// <example>
/// <code>
/// $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16
/// Get-KdRecipe T* | ForEach-Object {
///     New-Teacher resnet8 -Dataset $data -Recipe $_.Name -Epochs 1 -BatchSize 32
/// } | Format-Table Recipe, TrainedEpochs, Top1
/// </code>
/// <para>Trains a teacher for one epoch with each recipe whose name starts with T (TOFD, TAKD): the recipe's
/// optimizer and augmentation, with the epochs and batch size given on the command line.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "KdRecipe")]
[OutputType(typeof(KdRecipeInfo))]
public sealed class GetKdRecipeCommand : KdCmdlet
{
    /// <summary>The recipe to show, or a pattern with wildcards; case-insensitive. Tab completes the names.</summary>
    /// <value>* (every recipe)</value>
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
                Task = recipe.Task.ToString(),
                Epochs = s.Epochs,
                LearningRate = s.LearningRate,
                LightweightLearningRate = recipe.LightweightLearningRate ?? double.NaN,
                Momentum = s.Momentum,
                Nesterov = s.Nesterov,
                WeightDecay = s.WeightDecay,
                BatchSize = s.BatchSize,
                Schedule = s.Schedule.Describe(s.Epochs),
                Milestones = string.Join(",", (s.Schedule.MilestoneFractions ?? []).Select(f => (f * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%")),
                Augmentation = s.DescribeAugmentation(recipe.Task),
                Source = recipe.Source,
            });
        }
    }
}
