using System.Globalization;
using KdTools.Core.Methods;

namespace KdTools.Core.Tests.Methods;

/// <summary>
/// Option values are taken only when exactly representable, read culture-invariantly: never a comma read as a
/// thousands separator (a German-locale sweep), never a fraction rounded into a whole number.
/// </summary>
public class OptionValueTests
{
    private static KdException Invalid(string method, string option, object value) =>
        Assert.Throws<KdException>(() => MethodRegistry.Create(method, new Dictionary<string, object?> { [option] = value }).Dispose());

    [Theory]
    [InlineData("2,5")]
    [InlineData("1,000")]
    [InlineData("four")]
    public void Text_that_is_not_an_invariant_number_is_refused_naming_option_value_and_type(string text)
    {
        var ex = Invalid("KD", "Temperature", text);
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
        Assert.StartsWith($"option Temperature of method KD needs a number, got '{text}' (String)", ex.Message);
        Assert.Equal("Temperature", ex.Target);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(29.999)]
    public void A_fraction_for_a_whole_number_is_refused_not_rounded(double value)
    {
        var ex = Invalid("FitNet", "HintEpochs", value);
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
        Assert.Contains("needs a whole number", ex.Message);
        Assert.Contains("is not a whole number (it is never rounded)", ex.Message);
        Assert.Contains("'0.5'", Invalid("FitNet", "HintEpochs", "0.5").Message);
    }

    [Fact]
    public void Exact_values_bind_whatever_the_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            using var kd = MethodRegistry.Create("KD", new Dictionary<string, object?> { ["Temperature"] = "2.5", ["Alpha"] = 1, ["LogitStandardization"] = "1" });
            Assert.Equal("Temperature=2.5;Alpha=1;LogitStandardization=true", kd.Options.ToCompactString());
            using var fitnet = MethodRegistry.Create("FitNet", new Dictionary<string, object?> { ["HintEpochs"] = 30.0, ["Beta"] = "1e2" });
            Assert.Contains("HintEpochs=30", fitnet.Options.ToCompactString());
            Assert.Contains("Beta=100", fitnet.Options.ToCompactString());
            using var dih = MethodRegistry.Create("DIH", new Dictionary<string, object?> { ["Alpha"] = new object[] { 0.1, "0.2" } });
            Assert.Contains("Alpha=0.1,0.2", dih.Options.ToCompactString());
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData("yes")]
    [InlineData(2)]
    public void A_boolean_is_true_false_1_or_0(object value) =>
        Assert.Contains("needs a boolean (true or false)", Invalid("KD", "LogitStandardization", value).Message);
}
