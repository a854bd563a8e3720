using KdTools.Core.Methods;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

/// <summary>CC's, AB's and FT's defaults and extra modules follow the reference each one names.</summary>
public class ReferenceModulesTests
{
    /// <summary>Feature shapes of a network whose stages have <paramref name="widths"/> channels (halving resolution).</summary>
    private static Dictionary<string, long[]> Stages(params long[] widths)
    {
        var shapes = new Dictionary<string, long[]>();
        for (int i = 0; i < widths.Length; i++)
        {
            long size = 8 >> i;
            shapes[FeatureNames.Stage(i + 1)] = [2, widths[i], size, size];
            shapes[FeatureNames.StagePreActivation(i + 1)] = [2, widths[i], size, size];
        }
        shapes[FeatureNames.Embedding] = [2, widths[^1]];
        return shapes;
    }

    private static MethodSetup Setup(long[] student, long[] teacher) => new(Stages(student), Stages(teacher), classes: 4, CPU);

    private static Dictionary<string, long[]> ExtraShapes(DistillationMethod method) =>
        method.Extras?.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape) ?? [];

    private static Dictionary<string, object?> Options(params (string Key, object? Value)[] values) =>
        values.ToDictionary(v => v.Key, v => v.Value);

    [Fact]
    public void CC_defaults_to_RepDistillers_correlation_with_its_weight()
    {
        var options = MethodRegistry.Get("CC").Options.ToDictionary(o => o.Name, o => o.Default);
        Assert.Equal("repdistiller", options["Kernel"]);
        Assert.Equal(0.02, options["Beta"]);
    }

    [Fact]
    public void CC_Gaussian_kernel_needs_an_explicit_weight()
    {
        var ex = Assert.Throws<KdException>(() => MethodRegistry.Create("CC", Options(("Kernel", "gaussian"))));
        Assert.Equal(KdErrorIds.MethodOptionInvalid, ex.ErrorId);
        Assert.Contains("give Beta", ex.Message);

        using var method = MethodRegistry.Create("CC", Options(("Kernel", "gaussian"), ("Beta", 50)));
        var options = Assert.IsType<CorrelationCongruenceOptions>(method.Options);
        Assert.Equal(50, options.Beta);
    }

    [Fact]
    public void AB_compares_equal_shapes_directly_and_connects_the_others_with_He_initialised_conv_and_BN()
    {
        using (var same = MethodRegistry.Create("AB"))
        {
            same.Initialize(Setup([16, 32, 64], [16, 32, 64]));
            Assert.Null(same.Extras);
        }

        using var mixed = MethodRegistry.Create("AB");
        mixed.Initialize(Setup([16, 32, 64], [16, 128, 256]));
        var shapes = ExtraShapes(mixed);
        Assert.DoesNotContain(shapes.Keys, k => k.StartsWith("modules.0."));
        Assert.Equal(new long[] { 128, 32, 1, 1 }, shapes["modules.1.conv.weight"]);
        Assert.Equal(new long[] { 256, 64, 1, 1 }, shapes["modules.2.conv.weight"]);
        Assert.Equal(new long[] { 256 }, shapes["modules.2.bn.running_var"]);
        Assert.DoesNotContain("modules.2.conv.bias", shapes.Keys);

        // He-normal by fan-out: std √(2/256) ≈ 0.088 (the default uniform init would give 1/√(3·64) ≈ 0.072).
        using var scope = NewDisposeScope();
        var weight = mixed.Extras!.state_dict()["modules.2.conv.weight"];
        double std = weight.std().ToDouble();
        Assert.InRange(std, 0.95 * Math.Sqrt(2.0 / 256), 1.05 * Math.Sqrt(2.0 / 256));
        Assert.InRange(weight.mean().ToDouble(), -0.005, 0.005);
    }

    [Fact]
    public void AB_can_be_told_to_learn_every_connector()
    {
        using var method = MethodRegistry.Create("AB", Options(("LearnedConnectors", true)));
        method.Initialize(Setup([16, 32, 64], [16, 32, 64]));
        var shapes = ExtraShapes(method);
        Assert.Equal(new long[] { 16, 16, 1, 1 }, shapes["modules.0.conv.weight"]);
        Assert.Contains("modules.2.bn.weight", shapes.Keys);
    }

    [Fact]
    public void FT_defaults_to_RepDistillers_variant_and_recipe()
    {
        var options = MethodRegistry.Get("FT").Options.ToDictionary(o => o.Name, o => o.Default);
        Assert.Equal("repdistiller", options["Variant"]);
        Assert.Equal(200.0, options["Beta"]);
        Assert.Equal(30, options["ParaphraserEpochs"]);
        Assert.Equal(0.01, options["ParaphraserLearningRate"]);
        Assert.Equal("mse", options["Reconstruction"]);
    }

    [Fact]
    public void FT_official_variant_brings_the_authors_weight_and_paraphraser_recipe_unless_given()
    {
        using var official = MethodRegistry.Create("FT", Options(("Variant", "official")));
        var options = Assert.IsType<FactorTransferOptions>(official.Options);
        Assert.Equal((500.0, 5, 0.1, "l1"), (options.Beta, options.ParaphraserEpochs, options.ParaphraserLearningRate, options.Reconstruction));
        var stage = Assert.Single(official.PreStages);
        Assert.Equal((5, 0.1), (stage.Epochs, stage.LearningRate));

        using var given = MethodRegistry.Create("FT", Options(("variant", "official"), ("beta", 300), ("ParaphraserEpochs", 2)));
        var chosen = Assert.IsType<FactorTransferOptions>(given.Options);
        Assert.Equal((300.0, 2, 0.1), (chosen.Beta, chosen.ParaphraserEpochs, chosen.ParaphraserLearningRate));

        Assert.Equal(KdErrorIds.MethodOptionInvalid,
            Assert.Throws<KdException>(() => MethodRegistry.Create("FT", Options(("Variant", "pooled")))).ErrorId);
    }

    [Theory]
    [InlineData("repdistiller", true, 3)]
    [InlineData("official", false, 4)]
    public void FT_paraphraser_has_no_BatchNorm_and_the_translator_has_it_only_in_RepDistillers_variant(
        string variant, bool translatorBatchNorm, long factorChannels)
    {
        using var method = MethodRegistry.Create("FT", Options(("Variant", variant)));
        // k·C = 3.5 factor channels: RepDistiller truncates, the authors round half to even.
        method.Initialize(Setup([8, 8, 5], [8, 8, 7]));
        var shapes = ExtraShapes(method);

        Assert.DoesNotContain(shapes.Keys, k => k.StartsWith("modules.paraphraser.") && k.EndsWith("running_mean"));
        Assert.Equal(new long[] { factorChannels, 7, 3, 3 }, shapes["modules.paraphraser.encoder.3.weight"]);
        Assert.Equal(new long[] { factorChannels }, shapes["modules.paraphraser.encoder.3.bias"]);
        Assert.Equal(new long[] { factorChannels, 7, 3, 3 }, shapes["modules.paraphraser.decoder.3.weight"]); // transposed: [in, out, k, k]
        Assert.Equal(new long[] { factorChannels, 5, 3, 3 }, shapes["modules.translator.encoder.3.weight"]);
        Assert.Equal(translatorBatchNorm, shapes.ContainsKey("modules.translator.encoder.4.running_mean"));
        Assert.Equal(translatorBatchNorm, shapes.ContainsKey("modules.translator.encoder.1.weight"));
    }

    [Theory]
    [InlineData("repdistiller", 4.0)]
    [InlineData("official", 2.0)]
    public void FT_paraphraser_learns_each_variants_reconstruction_loss(string variant, double expected)
    {
        using var method = MethodRegistry.Create("FT", Options(("Variant", variant)));
        method.Initialize(Setup([8], [8]));
        using var scope = NewDisposeScope();
        // A paraphraser with every weight and bias at zero reconstructs zeros, so the loss is mean |x|^p of the input.
        using (no_grad())
            foreach (var p in method.Extras!.parameters()) p.zero_();
        var feature = full([2, 8, 8, 8], -2f);
        var teacher = new ModelOutput(zeros(2, 4), new Dictionary<string, Tensor> { [FeatureNames.Stage(1)] = feature });
        var terms = new LossTerms();
        method.PreStages[0].AddLosses(new StepContext(zeros(2, 3, 8, 8), zeros(2, ScalarType.Int64), zeros(2, ScalarType.Int64),
            student: null, teacher, epoch: 0), terms);

        var term = Assert.Single(terms.Items);
        Assert.Equal("reconstruction", term.Key);
        // |x| = 2 everywhere: L1 gives 2, MSE gives 4.
        Assert.Equal(expected, term.Value.ToDouble(), 6);
    }
}
