using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Core.Tests;

/// <summary>Every registry answers an unknown name with the closest known one, then the whole list.</summary>
public class UnknownNameTests
{
    public static TheoryData<string, string, string> Typos => new()
    {
        { "architecture", "resnt8", "resnet8" },
        { "method", "Fitnet2", "FitNet" },
        { "recipe", "RepDistiler", "RepDistiller" },
        { "dataset format", "cifr", "Cifar" },
        { "preset", "vgg13-vg8", "vgg13-vgg8" },
        { "option", "Temprature", "Temperature" },
    };

    [Theory]
    [MemberData(nameof(Typos))]
    public void A_typo_suggests_the_closest_name(string registry, string typo, string meant)
    {
        Action lookUp = registry switch
        {
            "architecture" => () => ArchitectureRegistry.Get(typo),
            "method" => () => MethodRegistry.Get(typo),
            "recipe" => () => TrainingRecipes.Get(typo),
            "dataset format" => () => DatasetFormatRegistry.Get(typo),
            "preset" => () => MethodRegistry.Create("DKD", new Dictionary<string, object?> { ["Preset"] = typo }).Dispose(),
            _ => () => MethodRegistry.Create("KD", new Dictionary<string, object?> { [typo] = 2 }).Dispose(),
        };
        var ex = Assert.Throws<KdException>(lookUp);
        Assert.Contains($"unknown {registry} '{typo}'", ex.Message);
        Assert.Contains($"(did you mean '{meant}'?)", ex.Message);
    }

    [Fact]
    public void A_name_far_from_every_known_one_gets_the_list_without_a_guess()
    {
        var ex = Assert.Throws<KdException>(() => ArchitectureRegistry.Get("transformer"));
        Assert.StartsWith("unknown architecture 'transformer'; known: ", ex.Message);
    }
}
