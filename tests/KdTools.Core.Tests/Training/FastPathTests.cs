using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Training;

/// <summary>
/// The engine's speed-ups change no result: batches prepared ahead on a background thread give bit-identical weights
/// (each batch draws from its own generator), and the teacher's cached outputs are its recomputed outputs to float
/// tolerance, used only where they cannot change (no augmentation, a method that names what it reads).
/// </summary>
public class FastPathTests
{
    [Theory]
    [InlineData("KD")]
    [InlineData("CRD")]
    public void Batches_prepared_ahead_give_bit_identical_weights(string method)
    {
        using var data = TinySetup.Dataset(train: 128, test: 32);
        var options = method == "CRD" ? new Dictionary<string, object?> { ["Negatives"] = 64 } : null;
        Dictionary<string, float[]> Train(bool ahead, out TrainingTimings timings)
        {
            using var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 21);
            var job = TinySetup.Job(data, method, teacher, options: options);
            timings = TinySetup.Train(job, TinySetup.Settings(epochs: 2), new EngineOptions { PrepareBatchesAhead = ahead }).Timings;
            return TinySetup.Weights(job.Student);
        }

        var inLine = Train(ahead: false, out var inLineTimings);
        var ahead = Train(ahead: true, out var aheadTimings);

        Assert.Equal(inLine.Keys, ahead.Keys);
        foreach (var key in inLine.Keys) Assert.True(inLine[key].SequenceEqual(ahead[key]), $"{method}: {key} differs");
        // Both ran the standard augmentation, so the teacher ran every step (no cache) and the batches took real work.
        Assert.Equal(0, aheadTimings.CachedTeacherSteps);
        Assert.True(aheadTimings.InputPreparation > 0 && inLineTimings.InputPreparation > 0);
    }

    [Theory]
    [InlineData("KD")]
    [InlineData("PKT")]
    public void Cached_teacher_outputs_are_the_recomputed_outputs(string method)
    {
        using var data = TinySetup.Dataset(train: 96, test: 32);
        using var teacher = EvalTeacher(data);
        var job = TinySetup.Job(data, method, teacher);
        using var cache = TeacherOutputCache.For(job, AugmentationPolicy.None);
        Assert.NotNull(cache);
        var features = job.Method.TeacherFeaturesRead!;
        using var inputs = BatchAugmentation.Prepare(data.Train.Images, data.Normalization.Mean, data.Normalization.Std, AugmentationPolicy.None, generator: null);
        using var noGrad = no_grad();
        int computed = 0;
        ModelOutput Compute(Tensor indices)
        {
            computed++;
            return teacher.Run(inputs.index_select(0, indices));
        }

        using var scope = NewDisposeScope();
        // First epoch: two batches fill the cache. Second epoch: another order, batches that mix both.
        foreach (var batch in new long[][] { [0, 5, 9, 47, 3, 60], Enumerable.Range(0, 96).Where(i => i is not (0 or 5 or 9 or 47 or 3 or 60)).Select(i => (long)i).ToArray() })
        {
            var indices = tensor(batch);
            cache!.Outputs(indices, () => Compute(indices));
        }
        Assert.Equal(2, computed);
        var mixed = tensor(new long[] { 60, 1, 95, 0, 47, 33, 12, 9 });
        var cached = cache!.Outputs(mixed, () => Compute(mixed));
        Assert.Equal(2, computed);
        var recomputed = teacher.Run(inputs.index_select(0, mixed));

        AssertClose(recomputed.Logits, cached.Logits, "logits");
        foreach (var name in features) AssertClose(recomputed.Feature(name), cached.Feature(name), name);
        Assert.Equal(method == "PKT" ? [FeatureNames.Embedding] : Array.Empty<string>(), features);
    }

    [Theory]
    [InlineData("KD", null)]
    // A features-only teacher (FitNet's stage-2 hint, no KD term): its pass stops after stage 2, and the cache keeps no logits.
    [InlineData("FitNet", 0)]
    public void A_run_without_augmentation_reads_the_teacher_once_per_sample_and_trains_as_without_the_cache(string method, int? hintEpochs)
    {
        using var data = TinySetup.Dataset(train: 96, test: 32);
        var options = hintEpochs is { } epochs ? new Dictionary<string, object?> { ["HintEpochs"] = epochs } : null;
        Dictionary<string, float[]> Train(bool cache, out TrainingTimings timings)
        {
            using var teacher = EvalTeacher(data);
            var job = TinySetup.Job(data, method, teacher, options: options);
            timings = TinySetup.Train(job, TinySetup.Settings(epochs: 3) with { Augmentation = AugmentationPolicy.None },
                new EngineOptions { CacheTeacherOutputs = cache }).Timings;
            return TinySetup.Weights(job.Student);
        }

        var recomputed = Train(cache: false, out var plain);
        var cached = Train(cache: true, out var withCache);

        Assert.Equal(0, plain.CachedTeacherSteps);
        Assert.Equal(2 * 3, withCache.CachedTeacherSteps);   // 3 batches of 32 per epoch; epochs 2 and 3 from the cache
        foreach (var key in recomputed.Keys)
        {
            double error = recomputed[key].Zip(cached[key], (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max();
            Assert.True(error < 1e-4, $"{key}: max difference {error:G3}");
        }
    }

    [Theory]
    [InlineData("KD", true, false)]     // augmentation on: every epoch's inputs differ
    [InlineData("NST", false, false)]    // a method that does not name the teacher features it reads
    [InlineData("KD", false, true)]
    public void The_cache_applies_only_where_the_teacher_outputs_cannot_change(string method, bool augment, bool applies)
    {
        using var data = TinySetup.Dataset(train: 32, test: 8);
        using var teacher = EvalTeacher(data);
        using var cache = TeacherOutputCache.For(TinySetup.Job(data, method, teacher), augment ? AugmentationPolicy.Standard : AugmentationPolicy.None);
        Assert.Equal(applies, cache is not null);
    }

    /// <summary>An untrained resnet8 in eval mode with BatchNorm statistics away from the identity.</summary>
    private static ClassifierNet EvalTeacher(KdDataset data)
    {
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 21);
        using (no_grad())
            foreach (var (key, value) in teacher.state_dict().Where(kv => kv.Key.EndsWith("running_mean")))
                value.copy_(randn(value.shape, generator: new Generator(4)) * 0.1);
        teacher.eval();
        return teacher;
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        double scale = Math.Max(1e-6, expected.abs().max().ToDouble());
        double error = (expected - actual).abs().max().ToDouble() / scale;
        Assert.True(error <= 1e-5, $"{what}: relative error {error:G3}");
    }
}
