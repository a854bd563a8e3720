using TorchSharp;
using KdTools.Core.Checkpoints;
using KdTools.Core.Data;
using KdTools.Core.Models;
using KdTools.Core.Training;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Tests.Training;

/// <summary>
/// Issue 12's "never lose a run, never return a silently wrong result" on the engine: runs own their checkpoint files,
/// a new run does not start over an unfinished one, failed checkpoint writes do not lose the student, a resume is the
/// same run (its best weights included) or is refused, divergence is detected, input sizes are recorded.
/// </summary>
public class RunSafetyTests
{
    private static DistillationRequest Request(KdDataset data, string? folder, int epochs = 2) => new()
    {
        Dataset = data,
        StudentArchitecture = "resnet8",
        MethodName = "CE",
        Settings = TinySetup.Settings(epochs, folder),
    };

    /// <summary>A run stopped at the start of <paramref name="epoch"/>'s second batch; its resumable checkpoint.</summary>
    private static string Interrupted(DistillationRequest request, int epoch)
    {
        using var stop = new CancellationTokenSource();
        var result = Distillation.Run(request with { Progress = p => { if (p.Epoch == epoch && p.Batch == 1) stop.Cancel(); } }, stop.Token);
        Assert.True(result.Cancelled);
        return result.LastCheckpoint!;
    }

    [Fact]
    public void Runs_sharing_a_folder_write_their_own_files_and_each_points_at_its_own()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var folder = TinySetup.TempFolder();
        var a = Distillation.Run(Request(data, folder, epochs: 1));
        var b = Distillation.Run(Request(data, folder, epochs: 1) with { Settings = TinySetup.Settings(1, folder) with { Seed = 4 } });

        Assert.NotEqual(a.LastCheckpoint, b.LastCheckpoint);
        Assert.NotEqual(a.BestCheckpoint, b.BestCheckpoint);
        foreach (var (result, file) in new[] { (a, a.LastCheckpoint!), (a, a.BestCheckpoint!), (b, b.LastCheckpoint!), (b, b.BestCheckpoint!) })
        {
            using var loaded = ModelFile.Load(file).Model;
            var expected = TinySetup.Weights(result.Network);
            var actual = TinySetup.Weights(loaded);
            foreach (var key in expected.Keys) Assert.Equal(expected[key], actual[key]);
        }
        Assert.Equal(4, Directory.GetFiles(folder).Length);
    }

    [Fact]
    public void A_new_run_does_not_start_over_an_unfinished_run_of_the_same_configuration()
    {
        using var data = TinySetup.Dataset(train: 96, test: 32);
        var folder = TinySetup.TempFolder();
        var stopped = Interrupted(Request(data, folder), epoch: 2);
        var before = File.ReadAllBytes(stopped);

        var refused = Assert.Throws<KdException>(() => Distillation.Run(Request(data, folder)));
        Assert.Equal(KdErrorIds.CheckpointUnfinished, refused.ErrorId);
        Assert.Equal(stopped, refused.Target);
        Assert.Contains("stopped at train epoch 2, batch 2", refused.Message);

        // Another configuration is another run; StartOver starts this one anew beside the stopped one.
        var other = Distillation.Run(Request(data, folder) with { Settings = TinySetup.Settings(2, folder) with { LearningRate = 0.02 } });
        var again = Distillation.Run(Request(data, folder) with { StartOver = true });
        Assert.NotEqual(stopped, again.LastCheckpoint);
        Assert.NotEqual(stopped, other.LastCheckpoint);
        Assert.Equal(before, File.ReadAllBytes(stopped));

        // Once it is resumed to its end, the stopped run is finished and no longer blocks its configuration.
        var resumed = Distillation.Run(Request(data, folder) with { ResumeFrom = stopped });
        Assert.Equal(stopped, resumed.LastCheckpoint);
        Assert.Equal(2, resumed.EpochsCompleted);
        Distillation.Run(Request(data, folder, epochs: 2));
    }

    [Fact]
    public void A_folder_that_cannot_take_a_checkpoint_fails_before_training()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var folder = TinySetup.TempFolder();
        var blocker = Path.Combine(folder, "blocker");
        File.WriteAllText(blocker, "a file where the folder should be");
        int steps = 0;

        var ex = Assert.Throws<KdException>(() => Distillation.Run(Request(data, Path.Combine(blocker, "runs")) with { Progress = _ => steps++ }));

        Assert.Equal(KdErrorIds.CheckpointWriteFailed, ex.ErrorId);
        Assert.Contains($"'{blocker}' is a file, not a folder", ex.Message);
        Assert.Equal(0, steps);
    }

    [Fact]
    public void A_checkpoint_write_that_fails_mid_run_keeps_the_trained_student_and_says_what_happened()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var root = TinySetup.TempFolder();
        var folder = Path.Combine(root, "runs");
        // After the starting checkpoint, the folder is replaced by a file: every later write fails.
        void BlockFolder(TrainingProgress p)
        {
            if (p.Epoch != 1 || p.Batch != 1) return;
            Directory.Delete(folder, recursive: true);
            File.WriteAllText(folder, "no longer a folder");
        }

        var result = Distillation.Run(Request(data, folder) with { Progress = BlockFolder });

        Assert.False(result.Cancelled);
        Assert.Equal(2, result.EpochsCompleted);
        Assert.False(double.IsNaN(result.Top1));
        Assert.Null(result.LastCheckpoint);
        Assert.Null(result.BestCheckpoint);
        var failure = Assert.IsType<KdException>(result.CheckpointFailure);
        Assert.Equal(KdErrorIds.CheckpointWriteFailed, failure.ErrorId);
        Assert.Contains("is a file, not a folder", failure.Message);
        Assert.Contains("at train epoch 2", failure.Message);
        Assert.Contains("training went on without it", failure.Message);
    }

    [Fact]
    public void A_stop_whose_folder_refuses_the_checkpoint_saves_it_in_the_default_folder()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var root = TinySetup.TempFolder();
        var folder = Path.Combine(root, "runs");
        using var stop = new CancellationTokenSource();
        void BlockAndStop(TrainingProgress p)
        {
            if (p.Batch != 1) return;
            Directory.Delete(folder, recursive: true);
            File.WriteAllText(folder, "no longer a folder");
            stop.Cancel();
        }

        var result = Distillation.Run(Request(data, folder) with { Progress = BlockAndStop }, stop.Token);
        try
        {
            Assert.True(result.Cancelled);
            Assert.Equal(RunFiles.DefaultFolder, Path.GetDirectoryName(result.LastCheckpoint));
            Assert.Equal(CheckpointMetadata.KindResumable, SafeTensorsFile.ReadMetadata(result.LastCheckpoint!)[CheckpointMetadata.Kind]);
        }
        finally
        {
            if (result.LastCheckpoint is { } file) File.Delete(file);
        }
    }

    [Fact]
    public void Resuming_a_run_that_keeps_its_best_weights_ends_with_the_best_weights()
    {
        using var data = TinySetup.Dataset(train: 96, test: 64);
        var folder = TinySetup.TempFolder();
        // A constant, high rate makes the test accuracy wander, so the best epoch comes before the interruption.
        var settings = TinySetup.Settings(4, folder) with { KeepBestWeights = true, LearningRate = 0.4, Schedule = LearningRateSchedule.Constant };
        var request = Request(data, folder) with { Settings = settings };
        var full = Distillation.Run(request with { Settings = settings with { CheckpointDirectory = null } });
        Assert.True(full.BestEpoch < 4, $"the test needs a best epoch before the last; got {full.BestEpoch}");

        var stopped = Interrupted(request, epoch: 4);
        var resumed = Distillation.Run(request with { ResumeFrom = stopped });

        Assert.Equal(full.BestEpoch, resumed.BestEpoch);
        Assert.Equal(full.Top1, resumed.Top1);
        var expected = TinySetup.Weights(full.Network);
        var actual = TinySetup.Weights(resumed.Network);
        foreach (var key in expected.Keys) Assert.Equal(expected[key], actual[key]);
        Assert.Equal(resumed.Top1, Core.Evaluation.Evaluator.Evaluate(resumed.Network, data.Test, data.Normalization, TorchSharp.torch.CPU).Top1);
    }

    [Fact]
    public void A_resume_with_other_settings_data_or_teacher_is_refused_listing_every_difference()
    {
        using var data = TinySetup.Dataset(train: 96, test: 32);
        using var otherData = TinySetup.Dataset(train: 96, test: 32, seed: 8);
        var folder = TinySetup.TempFolder();
        var teacher = Distillation.Run(Request(data, folder: null, epochs: 1) with { Settings = TinySetup.Settings(1) }).Network;
        var otherTeacher = Distillation.Run(Request(data, folder: null, epochs: 1) with { Settings = TinySetup.Settings(1) with { Seed = 9 } }).Network;
        var request = Request(data, folder) with { MethodName = "KD", Teacher = teacher };
        var stopped = Interrupted(request, epoch: 2);

        var changed = request with
        {
            ResumeFrom = stopped,
            Dataset = otherData,
            Teacher = otherTeacher,
            Settings = request.Settings with { Seed = 7, BatchSize = 16, LearningRate = 0.1 },
            MethodOptions = new Dictionary<string, object?> { ["Temperature"] = 2 },
        };
        var ex = Assert.Throws<KdException>(() => Distillation.Run(changed));

        Assert.Equal(KdErrorIds.CheckpointMismatch, ex.ErrorId);
        foreach (var difference in new[] { "seed: 3 in the checkpoint, 7 now", "batch size: 32 in the checkpoint, 16 now",
                     "learning rate: 0.05 in the checkpoint, 0.1 now", "dataset contents: ", "teacher weights: ",
                     "method options: Temperature=4;" })
            Assert.Contains(difference, ex.Message);
        // The same run resumes.
        Assert.Equal(2, Distillation.Run(request with { ResumeFrom = stopped }).EpochsCompleted);
    }

    /// <summary>
    /// Head fine-tuning resumes like a distillation, and its frozen network is part of the run: heads resumed on
    /// another network's weights would be trained for the wrong features.
    /// </summary>
    [Fact]
    public void Head_fine_tuning_resumes_to_the_uninterrupted_heads_and_refuses_another_backbone()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var folder = TinySetup.TempFolder();
        var trained = Distillation.Run(Request(data, folder: null, epochs: 1)).Network;
        var other = Distillation.Run(Request(data, folder: null, epochs: 1) with { Settings = TinySetup.Settings(1) with { Seed = 9 } }).Network;
        var settings = TinySetup.Settings(2, folder);
        using var stop = new CancellationTokenSource();
        var stopped = HeadFineTuning.Run(trained, null, data, settings, progress: p => { if (p.Epoch == 2 && p.Batch == 1) stop.Cancel(); }, cancellation: stop.Token);
        Assert.True(stopped.Cancelled);

        var refused = Assert.Throws<KdException>(() => HeadFineTuning.Run(other, null, data, settings, resumeFrom: stopped.LastCheckpoint));
        Assert.Equal(KdErrorIds.CheckpointMismatch, refused.ErrorId);
        Assert.Contains("backbone weights: ", refused.Message);

        var resumed = HeadFineTuning.Run(trained, null, data, settings, resumeFrom: stopped.LastCheckpoint);
        var whole = HeadFineTuning.Run(trained, null, data, settings with { CheckpointDirectory = null });
        Assert.Equal(2, resumed.EpochsCompleted);
        var expected = TinySetup.Weights(whole.Network);
        var actual = TinySetup.Weights(resumed.Network);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var key in expected.Keys) Assert.True(expected[key].SequenceEqual(actual[key]), $"{key} differs");
    }

    [Fact]
    public void A_label_loss_that_a_falling_distillation_objective_raises_is_not_divergence()
    {
        using var data = TinySetup.Dataset(train: 128, test: 32);
        // A teacher sure of class 0 whatever the image: KD pulls the student there, so its label loss rises far above
        // a uniform guess's while the objective (mostly the KD term) falls. That is the method working, not SGD running away.
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 3);
        using (torch.no_grad())
        {
            var (weight, bias) = (teacher.named_parameters().Last(p => p.name.EndsWith("weight")).parameter,
                teacher.named_parameters().Last(p => p.name.EndsWith("bias")).parameter);
            weight.zero_();
            bias.copy_(torch.tensor(new[] { 50f, 0f, 0f, 0f }));
        }
        var result = Distillation.Run(Request(data, folder: null, epochs: 3) with
        {
            MethodName = "KD",
            Teacher = teacher,
            Settings = TinySetup.Settings(3) with { LearningRate = 0.2 },
        });

        var epochs = result.TrainEpochs.ToList();
        double chance = Math.Log(data.Classes);
        Assert.Contains(epochs, e => e.Terms["ce"] / 0.1 > 3 * chance);
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, $"objective {epochs[0].TrainLoss} -> {epochs[^1].TrainLoss}");
    }

    [Fact]
    public void A_learning_rate_that_blows_the_loss_up_is_reported_as_divergence_with_the_likely_fix()
    {
        using var data = TinySetup.Dataset(train: 128, test: 32);
        var ex = Assert.Throws<KdException>(() => Distillation.Run(Request(data, folder: null, epochs: 3) with
        {
            Settings = TinySetup.Settings(3) with { LearningRate = 100 },
        }));

        Assert.Equal(KdErrorIds.TrainingDiverged, ex.ErrorId);
        Assert.Contains("in stage 'train' epoch", ex.Message);
        Assert.Contains("lower -LearningRate (try 10)", ex.Message);
    }

    /// <summary>
    /// A pre-stage runs at its own rate, which -LearningRate does not set: its divergence names the stage and the
    /// method option that does (issue 23: FT's paraphraser was told to lower the learning rate or the loss weights).
    /// </summary>
    [Fact]
    public void A_pre_stage_that_diverges_names_its_own_learning_rate_option()
    {
        using var data = TinySetup.Dataset(train: 128, test: 32);
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 3);
        var ex = Assert.Throws<KdException>(() => Distillation.Run(Request(data, folder: null, epochs: 1) with
        {
            MethodName = "FT",
            Teacher = teacher,
            MethodOptions = new Dictionary<string, object?> { ["ParaphraserEpochs"] = 3, ["ParaphraserLearningRate"] = 1e6 },
        }));

        Assert.Equal(KdErrorIds.TrainingDiverged, ex.ErrorId);
        Assert.Contains("stage 'paraphraser'", ex.Message);
        Assert.Contains("-MethodOption @{ ParaphraserLearningRate = 1E+05 }", ex.Message);
        Assert.DoesNotContain("-LearningRate (try", ex.Message);
    }

    /// <summary>
    /// Weights that became non-finite make libtorch refuse the next step (an SVD of non-finite features, as KDSVD hit on
    /// real data): that is divergence, reported with its id, the stage and the knob, never as a raw native exception.
    /// </summary>
    [Fact]
    public void Non_finite_weights_that_libtorch_refuses_are_reported_as_divergence_not_a_native_exception()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 3);
        var student = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 4);
        using (torch.no_grad()) student.named_parameters().First(p => p.name.EndsWith("conv1.weight")).parameter.fill_(float.NaN);
        var ex = Assert.Throws<KdException>(() => Distillation.Run(Request(data, folder: null, epochs: 1) with
        {
            MethodName = "KDSVD",
            StudentArchitecture = null,
            Student = student,
            Teacher = teacher,
        }));

        Assert.Equal(KdErrorIds.TrainingDiverged, ex.ErrorId);
        Assert.IsType<System.Runtime.InteropServices.ExternalException>(ex.InnerException);
        Assert.Contains("linalg.svd", ex.Message);
        Assert.Contains("non-finite", ex.Message);
        Assert.Contains("-LearningRate", ex.Message);
    }

    [Fact]
    public void The_input_size_is_recorded_in_the_model_and_its_checkpoint_and_another_size_warns()
    {
        using var small = TinySetup.Dataset(train: 64, test: 32);
        using var large = SyntheticDataset.Create(new SyntheticDatasetOptions { Classes = 4, TrainCount = 64, TestCount = 32, ImageSize = 24, Seed = 2 });
        var folder = TinySetup.TempFolder();
        var teacher = Distillation.Run(Request(small, folder, epochs: 1));
        Assert.Equal(new ImageSize(16, 16), teacher.Network.InputSize);
        using (var loaded = ModelFile.Load(teacher.BestCheckpoint!).Model) Assert.Equal(new ImageSize(16, 16), loaded.InputSize);

        var log = new ListLogger();
        var student = Distillation.Run(Request(large, folder: null, epochs: 1) with
        {
            MethodName = "KD", Teacher = teacher.Network, Settings = TinySetup.Settings(1), Logger = log,
        });

        Assert.Contains(log.Warnings, w => w.StartsWith("the teacher (resnet8) was trained on 16×16 images but is given 24×24 images", StringComparison.Ordinal));
        Assert.Equal(new ImageSize(24, 24), student.Network.InputSize);
    }

    [Fact]
    public void Images_with_another_channel_count_fail_before_the_first_forward_pass()
    {
        using var gray = SyntheticDataset.Create(new SyntheticDatasetOptions { Classes = 4, TrainCount = 32, TestCount = 16, ImageSize = 16, Channels = 1 });
        int steps = 0;
        var ex = Assert.Throws<KdException>(() => Distillation.Run(Request(gray, folder: null, epochs: 1) with
        {
            Settings = TinySetup.Settings(1), Progress = _ => steps++,
        }));

        Assert.Equal(KdErrorIds.InputShapeMismatch, ex.ErrorId);
        Assert.Contains("takes 3-channel images but dataset 'synthetic' has 1-channel images", ex.Message);
        Assert.Equal(0, steps);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Warnings { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning) Warnings.Add(formatter(state, exception));
        }
    }
}
