using KdTools.Core.Losses;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

/// <summary>The logit methods' weights, warm-up and logit standardisation, on one fixed batch.</summary>
public class LogitMethodTests
{
    private static (Tensor Student, Tensor Teacher, Tensor Labels) Batch() =>
        (tensor(new double[] { 1, 2, 0.5, -1, 0, 3, 0.2, 0.1, -0.4 }, 3, 3), tensor(new double[] { 2, 1, 0, 0, 1, 2, 1, 1, 3 }, 3, 3),
            tensor(new long[] { 0, 2, 1 }));

    private static Dictionary<string, double> Terms(string method, Dictionary<string, object?>? options = null, int epoch = 0, int epochs = 240)
    {
        using var created = MethodRegistry.Create(method, options);
        var (student, teacher, labels) = Batch();
        var terms = new LossTerms();
        created.AddLosses(new StepContext(student, labels, labels, new ModelOutput(student, new()), new ModelOutput(teacher, new()), epoch, epochs), terms);
        return terms.Items.ToDictionary(t => t.Key, t => t.Value.ToDouble());
    }

    [Theory]
    [InlineData(0, 240, 1 / 20.0)]
    [InlineData(9, 240, 10 / 20.0)]
    [InlineData(19, 240, 1.0)]
    [InlineData(100, 240, 1.0)]
    [InlineData(0, 24, 1 / 2.0)]
    [InlineData(1, 24, 1.0)]
    public void DKD_warms_up_over_the_same_fraction_of_any_run(int epoch, int epochs, double factor)
    {
        using var scope = NewDisposeScope();
        var (student, teacher, labels) = Batch();
        var parts = DkdLoss.Parts(student, teacher, labels, 4);
        var terms = Terms("DKD", epoch: epoch, epochs: epochs);
        Assert.Equal(factor * 1 * parts.TargetClass.ToDouble(), terms["tckd"], 12);
        Assert.Equal(factor * 8 * parts.NonTargetClass.ToDouble(), terms["nckd"], 12);
        using var method = MethodRegistry.Create("DKD");
        Assert.Equal(1.0, method.TaskLossWeight);
    }

    [Fact]
    public void DIST_weighs_both_relations_by_its_loss_weight()
    {
        using var scope = NewDisposeScope();
        var (student, teacher, _) = Batch();
        var parts = DistLoss.Parts(student, teacher, 4);
        var terms = Terms("DIST");
        Assert.Equal(2 * parts.Inter.ToDouble(), terms["dist_inter"], 12);
        Assert.Equal(2 * parts.Intra.ToDouble(), terms["dist_intra"], 12);
    }

    [Theory]
    [InlineData("KD", "kd")]
    [InlineData("DKD", "nckd")]
    [InlineData("DIST", "dist_inter")]
    public void Logit_standardisation_ignores_the_teachers_scale_and_shift(string method, string term)
    {
        using var scope = NewDisposeScope();
        var (student, teacher, labels) = Batch();
        var options = new Dictionary<string, object?> { ["LogitStandardization"] = true };
        double standardized = Terms(method, options)[term];
        Assert.NotEqual(Terms(method)[term], standardized, 6);
        // Teacher logits 3·z + 5 z-score to the same values (up to the 1e-7 beside the deviation), so every
        // standardised term is unchanged.
        using var created = MethodRegistry.Create(method, options);
        var terms = new LossTerms();
        var affine = teacher * 3 + 5;
        created.AddLosses(new StepContext(student, labels, labels, new ModelOutput(student, new()), new ModelOutput(affine, new()), 0, 240), terms);
        Assert.Equal(standardized, terms.Items.Single(t => t.Key == term).Value.ToDouble(), 6);
    }

    [Fact]
    public void KD_with_an_explicit_CE_weight_takes_alpha_above_one()
    {
        using var method = MethodRegistry.Create("KD", new Dictionary<string, object?> { ["Preset"] = "LS" });
        var options = Assert.IsType<KdOptions>(method.Options);
        Assert.Equal(0.1, method.TaskLossWeight, 12);
        Assert.Equal(9.0, options.Alpha);
        Assert.True(options.LogitStandardization);
        Assert.Equal(2.0, options.Temperature);

        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create("KD", new Dictionary<string, object?> { ["Alpha"] = 9 }));
        Assert.Contains("set CeWeight", ex.Message);
        // An empty CSV cell leaves CeWeight unset: 1 − α.
        using var fromCsv = MethodRegistry.Create("KD", new Dictionary<string, object?> { ["Alpha"] = "0.7", ["CeWeight"] = "" });
        Assert.Equal(0.3, fromCsv.TaskLossWeight, 12);
    }

    [Fact]
    public void TAKD_hands_its_KD_options_to_the_assistant_step()
    {
        using var takd = (TakdMethod)MethodRegistry.Create("TAKD", new Dictionary<string, object?> { ["Preset"] = "LS" });
        using var assistant = Assert.Single(takd.IntermediateTeachers).CreateMethod();
        var options = Assert.IsType<KdOptions>(assistant.Options);
        Assert.Equal((2.0, 9.0, (double?)0.1, true), (options.Temperature, options.Alpha, options.CeWeight, options.LogitStandardization));
        Assert.Equal(0.1, assistant.TaskLossWeight, 12);
    }
}
