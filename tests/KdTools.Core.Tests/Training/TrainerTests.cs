using KdTools.Core.Checkpoints;
using KdTools.Core.Models;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Training;

public class TrainerTests
{
    [Fact]
    public void Short_training_reduces_the_loss_and_beats_chance()
    {
        using var data = TinySetup.Dataset();
        var job = TinySetup.Job(data);
        var result = new Trainer(TinySetup.Settings(epochs: 3)).Run(job);

        var epochs = result.TrainEpochs.ToList();
        Assert.Equal(3, epochs.Count);
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, $"loss {epochs[0].TrainLoss} → {epochs[^1].TrainLoss}");
        var last = result.LastEvaluated!;
        Assert.True(last.TestTop1 > 1.0 / data.Classes + 0.15, $"top-1 {last.TestTop1} vs chance {1.0 / data.Classes}");
        Assert.Equal(new[] { "ce" }, epochs[0].Terms.Keys);
        Assert.InRange(result.Best!.Epoch, 1, 3);
        Assert.Equal(result.History.Where(h => !double.IsNaN(h.TestTop1)).Max(h => h.TestTop1), result.Best.TestTop1);
    }

    [Fact]
    public void Same_seed_gives_identical_runs()
    {
        using var data = TinySetup.Dataset(train: 96, test: 32);
        var first = TinySetup.Job(data);
        var second = TinySetup.Job(data);
        var a = new Trainer(TinySetup.Settings(epochs: 1)).Run(first);
        var b = new Trainer(TinySetup.Settings(epochs: 1)).Run(second);

        Assert.Equal(a.History[0].TrainLoss, b.History[0].TrainLoss);
        Assert.Equal(a.LastEvaluated!.TestTop1, b.LastEvaluated!.TestTop1);
        var wa = TinySetup.Weights(first.Student);
        var wb = TinySetup.Weights(second.Student);
        foreach (var key in wa.Keys) Assert.Equal(wa[key], wb[key]);
    }

    [Fact]
    public void Cancel_saves_a_checkpoint_and_resume_continues_bit_identically()
    {
        using var data = TinySetup.Dataset(train: 160, test: 32);
        var folder = TinySetup.TempFolder();
        var uninterrupted = TinySetup.Job(data);
        var full = new Trainer(TinySetup.Settings(epochs: 2)).Run(uninterrupted);

        using var stop = new CancellationTokenSource();
        var trainer = new Trainer(TinySetup.Settings(epochs: 2, checkpoints: folder));
        trainer.Progress += p => { if (p.Epoch == 2 && p.Batch == 2) stop.Cancel(); };
        var interrupted = trainer.Run(TinySetup.Job(data), stop.Token);
        Assert.True(interrupted.Cancelled);
        Assert.Equal(1, interrupted.EpochsCompleted);
        Assert.True(File.Exists(interrupted.LastCheckpoint));

        var resumedJob = TinySetup.Job(data, resumeFrom: interrupted.LastCheckpoint);
        var resumed = new Trainer(TinySetup.Settings(epochs: 2, checkpoints: folder)).Run(resumedJob);
        Assert.False(resumed.Cancelled);
        Assert.Equal(2, resumed.EpochsCompleted);
        Assert.Equal(full.History[1].TrainLoss, resumed.History[1].TrainLoss, 12);
        Assert.Equal(full.LastEvaluated!.TestTop1, resumed.LastEvaluated!.TestTop1);
        var expected = TinySetup.Weights(uninterrupted.Student);
        var actual = TinySetup.Weights(resumedJob.Student);
        foreach (var key in expected.Keys) Assert.Equal(expected[key], actual[key]);
    }

    [Fact]
    public void Best_and_last_checkpoints_are_written_and_load_as_models()
    {
        using var data = TinySetup.Dataset(train: 96, test: 64);
        var folder = TinySetup.TempFolder();
        var job = TinySetup.Job(data);
        var result = new Trainer(TinySetup.Settings(epochs: 2, checkpoints: folder)).Run(job);

        Assert.Equal(folder, Path.GetDirectoryName(result.LastCheckpoint));
        Assert.Matches(@"^CE-resnet8-seed3-\d{8}-\d{6}-[0-9a-f]{4}-last\.safetensors$", Path.GetFileName(result.LastCheckpoint));
        Assert.Equal(result.LastCheckpoint!.Replace("-last.", "-best."), result.BestCheckpoint);
        Assert.True(File.Exists(result.BestCheckpoint));
        var loaded = ModelFile.Load(result.LastCheckpoint!);
        Assert.Equal("resnet8", loaded.Model.Architecture);
        Assert.Equal("CE", loaded.Provenance.Method);
        Assert.Equal(2, loaded.Provenance.Epochs);
        Assert.Equal(data.Normalization, loaded.Model.Normalization);
        Assert.Equal("Default", loaded.Provenance.Recipe);
        using var x = torch.randn(2, 3, 16, 16);
        job.Student.eval();
        loaded.Model.eval();
        using var noGrad = torch.no_grad();
        Assert.True(job.Student.forward(x).equal(loaded.Model.forward(x)).all().item<bool>());
    }

    [Fact]
    public void Native_tensor_count_stays_flat_across_epochs()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var counts = new List<long>();
        TinySetup.Train(TinySetup.Job(data), TinySetup.Settings(epochs: 5),
            new EngineOptions { EpochCompleted = _ => { GC.Collect(); GC.WaitForPendingFinalizers(); counts.Add(Tensor.TotalCount); } });
        // The first epoch allocates lasting state (momentum buffers); after it, nothing may accumulate.
        Assert.True(counts.Skip(1).Max() - counts[1] <= 2, $"tensor counts per epoch: {string.Join(", ", counts)}");
    }

    [Fact]
    public void Invalid_settings_fail_with_the_setting_named()
    {
        using var data = TinySetup.Dataset(train: 32, test: 8);
        var ex = Assert.Throws<KdException>(() => TinySetup.Train(TinySetup.Job(data), TinySetup.Settings() with { BatchSize = 0 }));
        Assert.Equal(KdErrorIds.TrainingSettingInvalid, ex.ErrorId);
        Assert.Contains("BatchSize", ex.Message);
    }
}
