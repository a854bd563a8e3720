using System.Reflection;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Core.Tests;

/// <summary>
/// One registry pattern: methods, architectures, dataset formats and exit heads are each found from the [Registered]
/// types of KdTools.Core, so adding one is one file.
/// </summary>
public class RegistryTests
{
    private static readonly List<Type> Registered = typeof(Registry<>).Assembly.GetTypes()
        .Where(t => t.IsDefined(typeof(RegisteredAttribute), inherit: false)).ToList();

    [Fact]
    public void Every_method_class_marked_DistillationMethod_is_listed_once()
    {
        var marked = Registered.Where(typeof(DistillationMethod).IsAssignableFrom)
            .Select(t => t.GetCustomAttribute<DistillationMethodAttribute>()!.Name).Order(StringComparer.Ordinal);
        Assert.Equal(marked, MethodRegistry.All.Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.All(MethodRegistry.All, m => Assert.True(m.MethodType.IsDefined(typeof(DistillationMethodAttribute), false), m.Name));
    }

    [Fact]
    public void Every_registered_architecture_family_and_dataset_format_contributes_its_entries()
    {
        var families = Registered.Where(t => t.GetMethod("Architectures", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public) is not null).ToList();
        Assert.Equal(8, families.Count);
        var fromFamilies = families.SelectMany(f => (IEnumerable<ArchitectureInfo>)f.GetMethod("Architectures", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!.Invoke(null, null)!)
            .Select(a => a.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Superset(fromFamilies, ArchitectureRegistry.All.Select(a => a.Name).ToHashSet(StringComparer.OrdinalIgnoreCase));
        Assert.All(fromFamilies, name => Assert.True(ArchitectureRegistry.Contains(name), name));

        var formats = Registered.Where(typeof(DatasetFormat).IsAssignableFrom).ToList();
        Assert.Equal(["Cifar", "Cityscapes", "Csv", "ImageFolder", "Shard", "Voc"],
            formats.Select(t => ((DatasetFormat)Activator.CreateInstance(t)!).Name).Order(StringComparer.Ordinal));
        Assert.All(formats, t => Assert.Contains(DatasetFormatRegistry.All, f => f.GetType() == t));
    }

    [Fact]
    public void Exit_heads_kinds_come_from_their_registered_classes()
    {
        Assert.Equal([LinearStageHeads.KindName, ByotBranches.KindName], ExitHeadsRegistry.All.Select(k => k.Kind).Order(StringComparer.Ordinal).Reverse());
        var ex = Assert.Throws<KdException>(() => ExitHeadsRegistry.Create("no-such-heads", ArchitectureRegistry.Create("resnet8", 4, seed: 1), ""));
        Assert.Equal(KdErrorIds.CheckpointMismatch, ex.ErrorId);
        Assert.Matches("known: (linear-stage, byot|byot, linear-stage)$", ex.Message);
    }

    [Fact]
    public void Every_recipe_comes_from_its_registered_class_and_an_unknown_name_lists_each_name_once()
    {
        var classes = Registered.Where(t => t.GetMethod("Recipes", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public) is not null).ToList();
        var fromClasses = classes.SelectMany(c => (IEnumerable<TrainingRecipe>)c.GetMethod("Recipes", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!.Invoke(null, null)!)
            .Select(r => (r.Name, r.Task)).ToList();
        Assert.Equal(fromClasses.Order(), TrainingRecipes.All.Select(r => (r.Name, r.Task)).Order());
        // One file per recipe (the two task defaults are one family).
        Assert.Equal(TrainingRecipes.All.Select(r => r.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count(), classes.Count);
        var ex = Assert.Throws<KdException>(() => TrainingRecipes.Get("RepDistiler"));
        Assert.Equal(KdErrorIds.RecipeUnknown, ex.ErrorId);
        Assert.Equal("unknown recipe 'RepDistiler' (did you mean 'RepDistiller'?); known: Default, RepDistiller, DIH, TOFD, BYOT, FT, TAKD, SKD", ex.Message);
    }
}
