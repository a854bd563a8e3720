using KdTools.Core.Sweeps;
using KdTools.Core.Tests.Methods;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;

namespace KdTools.Core.Tests.Sweeps;

/// <summary>A resumable sweep as a C# user drives it: a ledger, one <see cref="Sweep.Run"/> per plan row, no PowerShell.</summary>
public sealed class SweepTests(TrainedTeacherFixture fixture) : IClassFixture<TrainedTeacherFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kdtools-sweep-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private DistillationRequest Request(string method, long seed, IReadOnlyDictionary<string, object?>? options = null) => new()
    {
        Dataset = fixture.Data,
        StudentArchitecture = "resnet8",
        Teacher = fixture.Teacher,
        MethodName = method,
        MethodOptions = options,
        Settings = TinySetup.Settings(1) with { Seed = seed },
    };

    [Fact]
    public void A_rerun_skips_completed_rows_with_their_recorded_results_and_reruns_failed_ones()
    {
        var ledger = new SweepLedger(Path.Combine(_folder, "sweep.csv"));
        var good = Request("KD", 1);
        var bad = Request("KD", 1, new Dictionary<string, object?> { ["Bogus"] = 3 });

        var ran = Sweep.Run(ledger, good);
        var failed = Sweep.Run(ledger, bad);

        Assert.Equal(SweepAction.Ran, ran.Action);
        Assert.Equal(SweepStatus.Completed, ran.Entry.Status);
        Assert.Equal(ran.Result!.Top1.ToString("R", System.Globalization.CultureInfo.InvariantCulture), ran.Entry.Results["Top1"]);
        Assert.True(File.Exists(ran.Entry.Checkpoint));
        Assert.StartsWith(ledger.DefaultCheckpointFolder, ran.Entry.Checkpoint);
        Assert.Equal(SweepStatus.Failed, failed.Entry.Status);
        Assert.Equal(KdErrorIds.MethodOptionUnknown, failed.Failure!.ErrorId);
        Assert.Equal(KdErrorIds.MethodOptionUnknown, failed.Entry.ErrorId);

        var skipped = Sweep.Run(ledger, good);
        var again = Sweep.Run(ledger, bad);

        Assert.Equal(SweepAction.Skipped, skipped.Action);
        Assert.Null(skipped.Result);
        Assert.Equal(ran.Entry.Results, skipped.Entry.Results);
        Assert.Equal(SweepAction.Ran, again.Action);
        Assert.Equal(
            ["Started", "Completed", "Started", "Failed", "Started", "Failed"],
            ledger.Read().Select(e => e.Status.ToString()));
        Assert.Equal([SweepStatus.Completed, SweepStatus.Failed], ledger.Latest().Select(e => e.Status));
    }

    [Fact]
    public void A_row_whose_checkpoint_belongs_to_another_run_fails_with_its_id_and_the_next_rerun_starts_it_over()
    {
        var whole = Sweep.Run(new SweepLedger(Path.Combine(_folder, "whole.csv")), Request("CE", 4) with { Settings = TinySetup.Settings(2) with { Seed = 4 } });
        var ledger = new SweepLedger(Path.Combine(_folder, "killed.csv"));
        var request = Request("CE", 4) with { Settings = TinySetup.Settings(2) with { Seed = 4 } };
        // A Started line and, under the row's name, the checkpoint of another run (one epoch, not two). (A real kill and
        // its bit-identical resume: tests/pester/SweepLedger.Tests.ps1.)
        var key = SweepKey.Of(request);
        var name = SweepKey.RunName(key, request);
        var firstEpoch = Distillation.Run(request with
        {
            Settings = request.Settings with { Epochs = 1, CheckpointDirectory = ledger.DefaultCheckpointFolder },
            RunName = name,
        });
        Assert.Equal(1, firstEpoch.EpochsCompleted);
        var checkpoint = Path.Combine(ledger.DefaultCheckpointFolder, name + "-last.safetensors");
        ledger.Append(new SweepEntry { Key = key, Status = SweepStatus.Started, Checkpoint = checkpoint });
        // The epochs are part of the run's identity: a one-epoch run cannot be resumed as a two-epoch one.
        var resumed = Sweep.Run(ledger, request);
        Assert.Equal(SweepStatus.Failed, resumed.Entry.Status);
        Assert.Equal(KdErrorIds.CheckpointMismatch, resumed.Failure!.ErrorId);
        Assert.Equal(SweepAction.Resumed, resumed.Action);

        var rerun = Sweep.Run(ledger, request);
        Assert.Equal(SweepAction.Ran, rerun.Action);
        Assert.Equal(whole.Entry.Results["TrainLoss"], rerun.Entry.Results["TrainLoss"]);
        Assert.Equal(whole.Entry.Results["Top1"], rerun.Entry.Results["Top1"]);
    }

    [Fact]
    public void A_line_cut_short_is_ignored_and_the_next_append_starts_on_its_own_line()
    {
        var path = Path.Combine(_folder, "torn.csv");
        var ledger = new SweepLedger(path);
        ledger.Append(new SweepEntry { Key = "a", Status = SweepStatus.Failed, Error = "comma, \"quote\"\nnewline" });
        File.AppendAllText(path, "b,Completed,host,1,2026-");
        Assert.Single(ledger.Read());
        ledger.Append(new SweepEntry { Key = "c", Status = SweepStatus.Started });

        var entries = ledger.Read();
        Assert.Equal(["a", "c"], entries.Select(e => e.Key));
        Assert.Equal("comma, \"quote\"\nnewline", entries[0].Error);
    }

    [Fact]
    public void A_file_that_is_not_a_ledger_is_refused_with_its_id()
    {
        var path = Path.Combine(_folder, "other.csv");
        File.WriteAllText(path, "Name,Value\na,1\n");
        var error = Assert.Throws<KdException>(() => new SweepLedger(path).Read());
        Assert.Equal(KdErrorIds.SweepLedgerUnreadable, error.ErrorId);
    }
}
