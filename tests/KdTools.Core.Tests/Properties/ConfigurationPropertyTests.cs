using System.Globalization;
using CsCheck;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Properties;

/// <summary>
/// Properties (CsCheck) of what users type and what a run is made of: option values (ExactValue, -MethodOption
/// hashtables), learning-rate schedules, recipes, augmentation draws and run identity. Each runs a few hundred random
/// cases from a fixed seed range; a failure prints the shrunk case and the seed that reproduces it.
/// </summary>
public sealed class ConfigurationPropertyTests
{
    private static readonly Type[] CellTypes =
        [typeof(int), typeof(long), typeof(double), typeof(float), typeof(bool), typeof(LearningRateScheduleKind), typeof(double[]), typeof(int[])];

    [Fact]
    public void ExactValue_reads_back_every_number_it_is_given_as_invariant_text()
    {
        Gen.Double.Where(double.IsFinite).Sample(d =>
            (double)ExactValue.Convert(d.ToString("R", CultureInfo.InvariantCulture), typeof(double)) == d);
        Gen.Long.Sample(l => (long)ExactValue.Convert(l.ToString(CultureInfo.InvariantCulture), typeof(long)) == l);
        Gen.Int.Sample(i => (int)ExactValue.Convert(i.ToString(CultureInfo.InvariantCulture), typeof(int)) == i);
        // A boxed value of another numeric type converts when it fits exactly, as a hashtable value does.
        Gen.Int.Sample(i => (long)ExactValue.Convert(i, typeof(long)) == i && (double)ExactValue.Convert(i, typeof(double)) == i);
    }

    [Fact]
    public void ExactValue_never_rounds_a_whole_number_and_never_wraps_one()
    {
        Gen.Double[-1e9, 1e9].Where(d => d != Math.Truncate(d)).Sample(d =>
        {
            Assert.Throws<FormatException>(() => ExactValue.Convert(d, typeof(int)));
            Assert.Throws<FormatException>(() => ExactValue.Convert(d.ToString("R", CultureInfo.InvariantCulture), typeof(long)));
        });
        Gen.Long.Where(l => l is < int.MinValue or > int.MaxValue).Sample(l =>
            Assert.Throws<FormatException>(() => ExactValue.Convert(l.ToString(CultureInfo.InvariantCulture), typeof(int))));
    }

    [Theory]
    [InlineData("1e-40")]
    [InlineData("1.1562E-83")]
    [InlineData("-2e-30")]
    public void ExactValue_does_not_read_a_tiny_fraction_as_zero(string text)
    {
        // Found by the property above: decimal parsing rounded these to 0, a whole number of epochs.
        Assert.Throws<FormatException>(() => ExactValue.Convert(text, typeof(int)));
        Assert.Throws<FormatException>(() => ExactValue.Convert(text, typeof(long)));
    }

    [Fact]
    public void ExactValue_reads_a_list_cell_element_by_element()
    {
        Gen.Int[0, 400].Array[0, 6].Sample(values =>
            ((int[])ExactValue.Convert(string.Join(", ", values), typeof(int[]))).SequenceEqual(values));
        Gen.Double[0, 1].Array[1, 4].Sample(values =>
            ((double[])ExactValue.Convert(string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))), typeof(double[])))
            .SequenceEqual(values));
    }

    [Fact]
    public void ExactValue_answers_any_plan_cell_with_a_value_or_a_FormatException()
    {
        var cells = Gen.OneOf(Gen.String, Gen.String[Gen.Char["0123456789.,-+eE ;=truefalsTRUEFALS"], 0, 12]);
        Gen.Select(cells, Gen.Int[0, CellTypes.Length - 1]).Sample((cell, t) =>
        {
            var type = CellTypes[t];
            try
            {
                var value = ExactValue.Convert(cell, type);
                Assert.IsType(type, value);
            }
            catch (FormatException)
            {
                // The documented refusal; the cmdlets report it as KdTools.Training.SettingInvalid naming the column.
            }
        }, iter: 2000);
    }

    [Fact]
    public void Method_options_bind_under_any_casing_and_unknown_keys_are_refused()
    {
        var casing = Gen.Bool.Array[11];
        Gen.Select(Gen.Double[0.5, 20], Gen.Double[0, 1], casing).Sample((temperature, alpha, upper) =>
        {
            string Cased(string name) => new(name.Select((c, i) => upper[i % upper.Length] ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c)).ToArray());
            var options = (KdOptions)MethodOptionBinder.Bind("KD", typeof(KdOptions),
                new Dictionary<string, object?> { [Cased("Temperature")] = temperature, [Cased("Alpha")] = alpha.ToString("R", CultureInfo.InvariantCulture) });
            Assert.Equal(temperature, options.Temperature);
            Assert.Equal(alpha, options.Alpha);
        }, iter: 200);
        Gen.String[Gen.Char.AlphaNumeric, 1, 12].Where(k => !k.Equals("Temperature", StringComparison.OrdinalIgnoreCase)
                                                          && !k.Equals("Alpha", StringComparison.OrdinalIgnoreCase)).Sample(key =>
        {
            var ex = Assert.Throws<KdException>(() => MethodOptionBinder.Bind("KD", typeof(KdOptions), new Dictionary<string, object?> { [key] = 1.0 }));
            Assert.Equal(KdErrorIds.MethodOptionUnknown, ex.ErrorId);
        }, iter: 200);
    }

    [Fact]
    public void A_multistep_rate_never_rises_and_falls_by_the_decay_at_each_milestone()
    {
        var milestones = Gen.Int[1, 300].Array[0, 4].Select(m => m.Distinct().Order().ToArray());
        Gen.Select(Gen.Double[0.01, 1], milestones, Gen.Int[1, 300]).Sample((decay, epochsAt, epochs) =>
        {
            var schedule = LearningRateSchedule.AtEpochs(decay, epochsAt);
            schedule.Validate("test");
            double previous = double.PositiveInfinity;
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                double rate = schedule.RateAt(0.1, epoch, epochs, 0, 1);
                Assert.True(rate <= previous, $"epoch {epoch}: {rate} after {previous}");
                int passed = epochsAt.Count(m => m < epochs && epoch >= m);
                Assert.Equal(0.1 * Math.Pow(decay, passed), rate, 12);
                previous = rate;
            }
        }, iter: 300);
    }

    [Fact]
    public void Milestones_as_fractions_are_the_milestones_as_the_epochs_they_round_to()
    {
        var fractions = Gen.Double[0.01, 0.99].Array[1, 4].Select(f => f.Distinct().Order().ToArray());
        Gen.Select(fractions, Gen.Int[1, 400], Gen.Double[0.01, 1]).Sample((f, epochs, decay) =>
        {
            var byFraction = LearningRateSchedule.AtFractions(decay, f);
            var asEpochs = f.Select(x => (int)Math.Round(x * epochs)).Where(m => m > 0 && m < epochs).Distinct().Order().ToArray();
            var byEpoch = LearningRateSchedule.AtEpochs(decay, asEpochs);
            Assert.Equal(asEpochs, byFraction.Milestones(epochs));
            for (int epoch = 0; epoch < epochs; epoch++)
                Assert.Equal(byEpoch.RateAt(1, epoch, epochs, 0, 1), byFraction.RateAt(1, epoch, epochs, 0, 1));
        }, iter: 300);
    }

    [Fact]
    public void A_poly_rate_starts_at_the_base_and_falls_every_step_without_going_negative()
    {
        Gen.Select(Gen.Double[0.1, 3], Gen.Int[1, 20], Gen.Int[1, 30]).Sample((power, epochs, batches) =>
        {
            var schedule = LearningRateSchedule.PolyDecay(power);
            Assert.Equal(0.01, schedule.RateAt(0.01, 0, epochs, 0, batches), 15);
            double previous = double.PositiveInfinity;
            for (int epoch = 0; epoch < epochs; epoch++)
                for (int batch = 0; batch < batches; batch++)
                {
                    double rate = schedule.RateAt(0.01, epoch, epochs, batch, batches);
                    Assert.InRange(rate, 0, 0.01);
                    Assert.True(rate < previous);
                    previous = rate;
                }
        }, iter: 100);
    }

    [Fact]
    public void Every_recipe_keeps_its_milestones_inside_any_number_of_epochs()
    {
        Gen.Select(Gen.Int[0, TrainingRecipes.All.Count - 1], Gen.Int[1, 500]).Sample((r, epochs) =>
        {
            var recipe = TrainingRecipes.All[r];
            var settings = recipe.Settings with { Epochs = epochs };
            var milestones = settings.Schedule.Milestones(epochs);
            Assert.All(milestones, m => Assert.InRange(m, 1, epochs - 1));
            Assert.Equal(milestones.Order(), milestones);
            // An explicit override replaces the recipe's value and keeps the others.
            var overridden = settings with { LearningRate = 0.123, Seed = epochs };
            Assert.Equal(0.123, overridden.LearningRate);
            Assert.Equal(settings with { LearningRate = overridden.LearningRate, Seed = overridden.Seed }, overridden);
        }, iter: 300);
    }

    [Fact]
    public void Augmentation_draws_repeat_under_a_seed_and_stay_within_the_padding()
    {
        using var images = arange(2 * 3 * 6 * 6, ScalarType.Int64).remainder(251).add(1).to_type(ScalarType.Byte).view(2, 3, 6, 6);
        float[] mean = [0, 0, 0], std = [1, 1, 1];
        Gen.Select(Gen.Long, Gen.Int[0, 4], Gen.Bool).Sample((seed, padding, flip) =>
        {
            using var scope = NewDisposeScope();
            var policy = AugmentationPolicy.Standard with { Padding = padding, Flip = flip };
            var first = BatchAugmentation.Prepare(images, mean, std, policy, new Generator((ulong)seed));
            var second = BatchAugmentation.Prepare(images, mean, std, policy, new Generator((ulong)seed));
            Assert.True(first.eq(second).all().item<bool>(), "the same seed gave different augmentations");
            // Every output pixel is an input pixel (the originals are 1..251) or padding (0): nothing is invented.
            var pixels = first.mul(255).round().to_type(ScalarType.Int64);
            var original = images.to_type(ScalarType.Int64);
            var zeros = pixels.eq(0).sum().item<long>();
            Assert.True(zeros <= 2L * 3 * (6 * 6 - (6 - padding) * (6 - padding)), $"{zeros} padding pixels for padding {padding}");
            for (int b = 0; b < 2; b++)
            {
                var present = pixels[b].flatten().unique().output.data<long>().ToHashSet();
                var allowed = original[b].flatten().unique().output.data<long>().Append(0).ToHashSet();
                Assert.Subset(allowed, present);
            }
        }, iter: 100);
    }

    [Fact]
    public void Two_runs_have_the_same_identity_exactly_when_their_settings_agree()
    {
        using var data = TinySetup.Dataset(train: 16, test: 8);
        var job = TinySetup.Job(data);
        var settings = Gen.Select(Gen.Int[1, 3], Gen.Int[0, 1].Select(i => i == 0 ? 0.05 : 0.1), Gen.Long[1, 3], Gen.Bool, Gen.Int[0, 1].Select(i => i == 0 ? 32 : 64))
            .Select((epochs, rate, seed, nesterov, batch) => TinySetup.Settings(epochs) with
            {
                LearningRate = rate, Seed = seed, Nesterov = nesterov, BatchSize = batch,
            });
        try
        {
            Gen.Select(settings, settings).Sample((a, b) =>
            {
                bool same = a.Epochs == b.Epochs && a.LearningRate == b.LearningRate && a.Seed == b.Seed
                            && a.Nesterov == b.Nesterov && a.BatchSize == b.BatchSize;
                var differences = RunIdentity.Of(job, a).Differences(RunIdentity.Of(job, b));
                Assert.Equal(same, differences.Count == 0);
                // Where a run executes is not part of what it is.
                Assert.Empty(RunIdentity.Of(job, a).Differences(RunIdentity.Of(job, a with { Threads = 1, CheckpointDirectory = "elsewhere" })));
            }, iter: 60);
        }
        finally
        {
            job.Student.Dispose();
        }
    }
}
