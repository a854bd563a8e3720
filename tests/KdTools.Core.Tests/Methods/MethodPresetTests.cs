using KdTools.Core.Methods;

namespace KdTools.Core.Tests.Methods;

public class MethodPresetTests
{
    public static IEnumerable<object[]> Presets() =>
        MethodRegistry.All.SelectMany(m => ((MethodOptions)Activator.CreateInstance(m.OptionsType)!).Presets
            .Select(p => new object[] { m.Name, p.Name }));

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_preset_sets_its_values_and_validates(string method, string preset)
    {
        using var created = MethodRegistry.Create(method, new Dictionary<string, object?> { ["preset"] = preset.ToUpperInvariant() });
        var options = created.Options;
        var declared = options.Presets.Single(p => p.Name == preset);
        Assert.Equal(preset, options.Preset);
        foreach (var (name, value) in declared.Values)
            Assert.Equal(value, options.GetType().GetProperty(name)!.GetValue(options));
        Assert.Contains($"Preset={preset}", options.ToCompactString());
    }

    [Fact]
    public void Options_given_beside_a_preset_override_it_whatever_their_order()
    {
        using var method = MethodRegistry.Create("DKD", new Dictionary<string, object?> { ["Beta"] = 3.0, ["Preset"] = "vgg13-vgg8", ["Temperature"] = 2 });
        var options = Assert.IsType<DkdOptions>(method.Options);
        Assert.Equal(3.0, options.Beta);
        Assert.Equal(2.0, options.Temperature);
        Assert.Equal("vgg13-vgg8", options.Preset);
    }

    [Fact]
    public void CRD_plus_KD_is_the_papers_combination()
    {
        using var method = MethodRegistry.Create("CRD", new Dictionary<string, object?> { ["Preset"] = "CRD+KD" });
        var options = Assert.IsType<CrdOptions>(method.Options);
        Assert.Equal(1.0, options.KdWeight);
        Assert.Equal(0.8, options.Beta);
    }

    [Fact]
    public void An_unknown_preset_fails_listing_the_known_ones()
    {
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create("DKD", new Dictionary<string, object?> { ["Preset"] = "resnet8-resnet8" }));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
        Assert.StartsWith("option Preset = 'resnet8-resnet8' is invalid: unknown preset 'resnet8-resnet8'", ex.Message);
        Assert.Contains("; known: resnet56-resnet20, ", ex.Message);
    }

    [Fact]
    public void Methods_without_presets_do_not_list_or_accept_the_option()
    {
        Assert.DoesNotContain(MethodRegistry.Get("AT").Options, o => o.Name == "Preset");
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create("AT", new Dictionary<string, object?> { ["Preset"] = "x" }));
        Assert.Equal(KdErrorIds.MethodOptionUnknown, ex.ErrorId);
    }

    [Fact]
    public void The_listing_names_every_preset_with_its_values_and_source()
    {
        var preset = Assert.Single(MethodRegistry.Get("DKD").Options, o => o.Name == "Preset");
        Assert.Equal("", preset.DefaultText);
        Assert.Contains("vgg13-vgg8 (Beta=6; mdistiller configs/cifar100/dkd/vgg13_vgg8.yaml)", preset.Description);
        Assert.Contains("LS (LogitStandardization=true,Temperature=2,Alpha=9,Beta=72;", preset.Description);
    }
}
