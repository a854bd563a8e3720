using KdTools.Core.Methods;

namespace KdTools.Core.Tests.Methods;

public class MethodRegistryTests
{
    [Fact]
    public void KD_is_registered_with_the_paper_defaults()
    {
        var kd = MethodRegistry.Get("kd");
        Assert.Equal("KD", kd.Name);
        Assert.True(kd.NeedsTeacher);
        var options = kd.Options.ToDictionary(o => o.Name, o => o.Default);
        Assert.Equal(4.0, options["Temperature"]);
        Assert.Equal(0.9, options["Alpha"]);
        Assert.False(MethodRegistry.Get("CE").NeedsTeacher);
    }

    [Theory]
    [InlineData("DKD", "Alpha=1;Beta=8;Temperature=4;CeWeight=1;WarmupEpochs=20;WarmupPerStep=;LogitStandardization=false;Preset=")]
    [InlineData("DIST", "Beta=1;Gamma=1;Temperature=4;DistWeight=2;CeWeight=1;WarmupEpochs=0;WarmupPerStep=;LogitStandardization=false")]
    [InlineData("FSP", "InitEpochs=30;InitLearningRate=;Beta=0;KdWeight=0;Temperature=4")]
    [InlineData("ReviewKD", "WarmupEpochs=20;WarmupPerStep=;MaxMidChannels=512;Beta=5;KdWeight=0;Temperature=4;Preset=")]
    [InlineData("OFD", "TeacherMode=Train;Beta=0.001;KdWeight=0;Temperature=4")]
    [InlineData("KDSVD", "K=1;Layout=Channels;Beta=1;KdWeight=0;Temperature=4")]
    [InlineData("CRD", "Sampling=Exact;FeatureDim=128;Negatives=16384;NceTemperature=0.07;NceMomentum=0.5;Beta=0.8;KdWeight=0;Temperature=4;Preset=")]
    public void Each_method_is_listed_with_its_reference_codes_defaults(string name, string defaults)
    {
        var method = MethodRegistry.Get(name);
        Assert.True(method.NeedsTeacher);
        Assert.Equal(defaults, string.Join(";", method.Options.Select(o => $"{o.Name}={o.DefaultText}")));
        Assert.All(method.Options, o => Assert.False(string.IsNullOrWhiteSpace(o.Description), $"{name}.{o.Name} has no description"));
    }

    [Fact]
    public void Options_bind_case_insensitively_from_loose_values()
    {
        using var method = MethodRegistry.Create("KD", new Dictionary<string, object?> { ["temperature"] = "2.5", ["ALPHA"] = 0.5f });
        var options = Assert.IsType<KdOptions>(method.Options);
        Assert.Equal(2.5, options.Temperature);
        Assert.Equal(0.5, options.Alpha);
        Assert.Equal(0.5, method.TaskLossWeight);
        Assert.Equal("Temperature=2.5;Alpha=0.5;LogitStandardization=false", options.ToCompactString());
    }

    [Fact]
    public void Unknown_option_fails_listing_the_valid_ones()
    {
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create("KD", new Dictionary<string, object?> { ["Temp"] = 2 }));
        Assert.Equal(KdErrorIds.MethodOptionUnknown, ex.ErrorId);
        Assert.Equal("unknown option 'Temp' for method KD; valid options: Temperature, Alpha, CeWeight, LogitStandardization, Preset", ex.Message);
    }

    [Theory]
    [InlineData("Alpha", 1.5, "option Alpha = 1.5 is invalid: must be in [0, 1] (set CeWeight to weigh the KL term by more than 1)")]
    [InlineData("Temperature", 0.0, "option Temperature = 0 is invalid: must be > 0")]
    public void Out_of_range_values_fail_with_the_rule(string option, double value, string message)
    {
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create("KD", new Dictionary<string, object?> { [option] = value }));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Unparsable_value_fails_naming_the_expected_type()
    {
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create("KD", new Dictionary<string, object?> { ["Alpha"] = "lots" }));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
        Assert.StartsWith("option Alpha of method KD needs a number, got 'lots'", ex.Message);
    }

    [Fact]
    public void Unknown_method_lists_the_known_ones()
    {
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Get("kdd"));
        Assert.Equal(KdErrorIds.MethodUnknown, ex.ErrorId);
        Assert.StartsWith("unknown method 'kdd' (did you mean 'KD'?); known: ", ex.Message);
        Assert.Contains("KD", ex.Message);
        Assert.Contains("CE", ex.Message);
    }
}
